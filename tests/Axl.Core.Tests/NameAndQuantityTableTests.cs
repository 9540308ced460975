using Axl.Validation;

namespace Axl.Core.Tests;

/// <summary>Tables for the DNS-1123 name helpers and Kubernetes quantities.</summary>
public class NameAndQuantityTableTests
{
    [Theory]
    [InlineData("load_data", "load-data")]
    [InlineData("Load.Data", "load-data")]
    [InlineData("TrainModel", "trainmodel")]
    [InlineData("a b  c", "a-b-c")]
    [InlineData("a--b__c..d", "a-b-c-d")]
    [InlineData("__private__", "private")]
    [InlineData("-x-", "x")]
    [InlineData("step1", "step1")]
    [InlineData("123", "123")]
    [InlineData("büro", "bro")]
    [InlineData("load/data", "loaddata")]
    [InlineData("a_-_b", "a-b")]
    [InlineData("___", "")]
    [InlineData("", "")]
    public void Normalize(string input, string expected)
    {
        var n = Dns1123.Normalize(input);
        Assert.Equal(expected, n);
        if (n.Length > 0) Assert.True(Dns1123.IsValid(n));
        Assert.Equal(n, Dns1123.Normalize(n)); // idempotent
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("load-data", true)]
    [InlineData("1step", true)]
    [InlineData("a1-b2-c3", true)]
    [InlineData("", false)]
    [InlineData("-a", false)]
    [InlineData("a-", false)]
    [InlineData("Load", false)]
    [InlineData("load_data", false)]
    [InlineData("load.data", false)]
    [InlineData("a b", false)]
    [InlineData("büro", false)]
    public void IsValid(string name, bool valid) => Assert.Equal(valid, Dns1123.IsValid(name));

    [Fact]
    public void IsValid_length_limit_is_63()
    {
        Assert.True(Dns1123.IsValid(new string('a', 63)));
        Assert.False(Dns1123.IsValid(new string('a', 64)));
        Assert.Equal(63, Dns1123.MaxLength);
    }

    [Theory]
    [InlineData("500m", true)]
    [InlineData("2", true)]
    [InlineData("1.5", true)]
    [InlineData(".5", true)]
    [InlineData("+1", true)]
    [InlineData("1Gi", true)]
    [InlineData("512Mi", true)]
    [InlineData("1G", true)]
    [InlineData("1k", true)]
    [InlineData("128974848", true)]
    [InlineData("129e6", true)]
    [InlineData("1E3", true)]
    [InlineData("100n", true)]
    [InlineData("1GB", false)]
    [InlineData("2 cores", false)]
    [InlineData("1 Gi", false)]
    [InlineData("1gi", false)]
    [InlineData("1K", false)]
    [InlineData("Gi", false)]
    [InlineData("-1", false)]
    [InlineData("", false)]
    [InlineData("abc", false)]
    [InlineData(null, false)]
    public void Quantity_IsValid(string? value, bool valid) => Assert.Equal(valid, Quantity.IsValid(value));

    [Theory]
    [InlineData("500m", "0.5")]
    [InlineData("2", "2")]
    [InlineData("1.5", "1.5")]
    [InlineData("1k", "1000")]
    [InlineData("1G", "1000000000")]
    [InlineData("1Ki", "1024")]
    [InlineData("1Gi", "1073741824")]
    [InlineData("1.5Mi", "1572864")]
    [InlineData("129e6", "129000000")]
    [InlineData("1E3", "1000")]
    [InlineData("1E", "1000000000000000000")]
    [InlineData("250u", "0.00025")]
    [InlineData("5e-3", "0.005")]
    public void Quantity_ToDecimal(string value, string expected) =>
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Quantity.ToDecimal(value));

    [Theory]
    [InlineData("1GB")]
    [InlineData("lots")]
    [InlineData("1e40")]
    [InlineData("1e400")]
    [InlineData("100000000000E")]
    public void Quantity_ToDecimal_is_null_when_not_a_quantity_or_out_of_range(string value) => Assert.Null(Quantity.ToDecimal(value));

    [Fact]
    public void Quantity_ToDecimal_orders_units()
    {
        Assert.True(Quantity.ToDecimal("1Gi") > Quantity.ToDecimal("1G"));
        Assert.True(Quantity.ToDecimal("1500m") < Quantity.ToDecimal("2"));
        Assert.Equal(Quantity.ToDecimal("1000m"), Quantity.ToDecimal("1"));
    }
}
