using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Axl.IO;
using static Axl.Core.Tests.IO.IoTestData;

namespace Axl.Core.Tests.IO;

/// <summary>
/// The arrow handler makes its arrays from value, offset and validity buffers directly; the file must be byte for byte
/// the one the Arrow builders (Append per value, as the handler did before) give for the same values.
/// </summary>
public class ArrowBuffersTests
{
    private sealed record Row(long? Id, double? Score, string? Name, bool? Active, DateTime? At);

    private static Row[] Rows(int n, int seed, bool nulls, bool oldDates = false)
    {
        var random = new Random(seed);
        var start = oldDates ? new DateTime(1500, 1, 1, 0, 0, 0, DateTimeKind.Utc) : new DateTime(1969, 12, 31, 23, 59, 0, DateTimeKind.Utc);
        bool Null() => nulls && random.Next(9) == 0;
        return Enumerable.Range(0, n).Select(i => new Row(
            Null() ? null : random.NextInt64(long.MinValue, long.MaxValue),
            Null() ? null : random.NextDouble() * 1e6 - 5e5,
            Null() ? null : random.Next(4) switch { 0 => "", 1 => "n" + i, 2 => Unicode[..random.Next(Unicode.Length)], _ => new string('x', random.Next(200)) },
            Null() ? null : random.Next(2) == 0,
            Null() ? null : start.AddTicks(random.NextInt64(0, TimeSpan.TicksPerDay * 3) - TimeSpan.TicksPerDay))).ToArray();
    }

    /// <summary>What the handler wrote before: the same schema, batches of RowsPerGroup rows built with the Arrow builders.</summary>
    private static byte[] WithBuilders(Row[] rows, TimeUnit unit)
    {
        var schema = new Schema.Builder()
            .Field(f => f.Name("Id").DataType(Int64Type.Default).Nullable(true))
            .Field(f => f.Name("Score").DataType(DoubleType.Default).Nullable(true))
            .Field(f => f.Name("Name").DataType(StringType.Default).Nullable(true))
            .Field(f => f.Name("Active").DataType(BooleanType.Default).Nullable(true))
            .Field(f => f.Name("At").DataType(new TimestampType(unit, "UTC")).Nullable(true))
            .Build();
        using var ms = new MemoryStream();
        using (var writer = new ArrowFileWriter(ms, schema, leaveOpen: true))
        {
            writer.WriteStart();
            for (var start = 0; start < rows.Length; start += ColumnTyping.RowsPerGroup)
            {
                var part = rows.Skip(start).Take(ColumnTyping.RowsPerGroup).ToArray();
                var n = part.Length;
                var ids = new Int64Array.Builder().Reserve(n);
                var scores = new DoubleArray.Builder().Reserve(n);
                var names = new StringArray.Builder();
                var active = new BooleanArray.Builder().Reserve(n);
                var at = new TimestampArray.Builder((TimestampType)schema.GetFieldByName("At").DataType).Reserve(n);
                foreach (var r in part)
                {
                    if (r.Id is { } i) ids.Append(i); else ids.AppendNull();
                    if (r.Score is { } s) scores.Append(s); else scores.AppendNull();
                    if (r.Name is { } t) names.Append(t); else names.AppendNull();
                    if (r.Active is { } a) active.Append(a); else active.AppendNull();
                    if (r.At is { } d) at.Append(new DateTimeOffset(d)); else at.AppendNull();
                }
                using var batch = new RecordBatch(schema, new IArrowArray[] { ids.Build(), scores.Build(), names.Build(), active.Build(), at.Build() }, n);
                writer.WriteRecordBatch(batch);
            }
            writer.WriteEnd();
        }
        return ms.ToArray();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(7, true)]
    [InlineData(64, false)]
    [InlineData(1000, true)]
    [InlineData(1001, false)]
    public void Buffers_give_the_bytes_of_the_builders(int n, bool nulls)
    {
        var rows = Rows(n, n, nulls);
        Assert.Equal(WithBuilders(rows, TimeUnit.Nanosecond), Bytes(new ArrowIoHandler(), rows));
    }

    [Fact]
    public void Buffers_give_the_bytes_of_the_builders_over_several_batches_and_for_microseconds()
    {
        var rows = Rows(ColumnTyping.RowsPerGroup + 77, 3, nulls: true);
        Assert.Equal(WithBuilders(rows, TimeUnit.Nanosecond), Bytes(new ArrowIoHandler(), rows));
        var old = Rows(300, 4, nulls: true, oldDates: true); // before 1677: microseconds, negative values
        Assert.Equal(WithBuilders(old, TimeUnit.Microsecond), Bytes(new ArrowIoHandler(), old));
    }

    [Fact]
    public void Buffers_reused_from_batch_to_batch_give_the_bytes_of_the_builders()
    {
        // The handler reuses each column's buffers across batches: a first batch with long strings and nulls, then a
        // shorter one with short strings and no nulls, must not carry bytes of the first into the second's padding.
        var n = ColumnTyping.RowsPerGroup + 100;
        var rows = Enumerable.Range(0, n).Select(i => i < ColumnTyping.RowsPerGroup
            ? new Row(i % 5 == 0 ? null : i, i % 7 == 0 ? null : i * 1.5, i % 3 == 0 ? null : new string('w', 40) + i, i % 11 == 0 ? null : i % 2 == 0, i % 13 == 0 ? null : DateTime.UnixEpoch.AddSeconds(i))
            : new Row(-i, -i * 0.5, "s", i % 3 == 0, DateTime.UnixEpoch.AddMinutes(i))).ToArray();
        Assert.Equal(WithBuilders(rows, TimeUnit.Nanosecond), Bytes(new ArrowIoHandler(), rows));
    }

    [Fact]
    public void All_null_and_all_valid_columns_give_the_bytes_of_the_builders()
    {
        var rows = Enumerable.Range(0, 70).Select(i => new Row(null, i, i % 2 == 0 ? "" : "é", true, null)).ToArray();
        // All-null columns are typed from the values: Id and At have none, so the handler writes them as strings.
        var handler = Bytes(new ArrowIoHandler(), rows);
        var back = Array(new ArrowIoHandler().Read(new MemoryStream(handler)));
        Assert.Equal(70, back.Length);
        Assert.Null(Prop(back[3], "Id"));
        Assert.Equal("é", Prop(back[3], "Name"));
        var typed = Enumerable.Range(0, 70).Select(i => new Row(i, i, i % 2 == 0 ? "" : "é", true, DateTime.UnixEpoch.AddDays(i))).ToArray();
        Assert.Equal(WithBuilders(typed, TimeUnit.Nanosecond), Bytes(new ArrowIoHandler(), typed));
    }
}
