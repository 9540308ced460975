"""Weather-station features, the Python helper of the pipeline. Standard library only.

    python3 lib/features.py stats READINGS.csv            per-station statistics, as JSON
    python3 lib/features.py anomalies READINGS.csv Z      readings more than Z standard deviations from
                                                          their station's mean temperature, as CSV
    python3 lib/features.py rank < STATS.json             the stations warmest first, one name a line

Numbers are rounded to 3 decimals and JSON keys sorted, so the output is the same bytes on every machine that
runs this Python version (the tests compare the outputs of a local run and of containers by SHA-256).
"""
import csv
import json
import statistics
import sys


def load(path):
    """The readings of a CSV file (station, day, temp_c, rain_mm), with the numbers parsed."""
    with open(path, newline="", encoding="utf-8") as f:
        return [
            {"station": r["station"], "day": r["day"], "temp_c": float(r["temp_c"]), "rain_mm": float(r["rain_mm"])}
            for r in csv.DictReader(f)
        ]


def by_station(rows):
    groups = {}
    for r in rows:
        groups.setdefault(r["station"], []).append(r)
    return dict(sorted(groups.items()))


def stats(rows):
    """Per station: days, mean and standard deviation of the temperature, its maximum, and the total rain."""
    result = []
    for station, rs in by_station(rows).items():
        temps = [r["temp_c"] for r in rs]
        result.append({
            "station": station,
            "days": len(rs),
            "mean_temp": round(statistics.fmean(temps), 3),
            "stdev_temp": round(statistics.pstdev(temps), 3),
            "max_temp": max(temps),
            "rain_mm": round(sum(r["rain_mm"] for r in rs), 3),
        })
    return result


def anomalies(rows, z):
    """The readings whose temperature is more than z population standard deviations from their station's mean."""
    found = []
    for station, rs in by_station(rows).items():
        temps = [r["temp_c"] for r in rs]
        mean, sd = statistics.fmean(temps), statistics.pstdev(temps)
        for r in rs:
            score = 0.0 if sd == 0 else (r["temp_c"] - mean) / sd
            if abs(score) > z:
                found.append((station, r["day"], r["temp_c"], round(score, 3)))
    return found


def rank(station_stats):
    """Station names, warmest mean first; equal means in name order."""
    return [s["station"] for s in sorted(station_stats, key=lambda s: (-s["mean_temp"], s["station"]))]


def main(argv):
    if len(argv) >= 2 and argv[0] == "stats":
        json.dump({"stations": stats(load(argv[1]))}, sys.stdout, sort_keys=True, indent=2)
        sys.stdout.write("\n")
    elif len(argv) >= 3 and argv[0] == "anomalies":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["station", "day", "temp_c", "z"])
        w.writerows(anomalies(load(argv[1]), float(argv[2])))
    elif argv[:1] == ["rank"]:
        for name in rank(json.load(sys.stdin)["stations"]):
            print(name)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
