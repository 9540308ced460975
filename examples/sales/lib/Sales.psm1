# The shape of a region's total: a class, so steps get it with `using module`.
class RegionTotal {
    [string] $Region
    [double] $Total
    RegionTotal([string] $region, [double] $total) { $this.Region = $region; $this.Total = $total }
    [string] ToString() { return '{0}={1}' -f $this.Region, $this.Total }
}
