using System.Security.Cryptography;
using Axl.Hashing;

namespace Axl.Bench;

/// <summary>
/// Hashing a 1 GiB artifact (issue 18, point 1): BLAKE3 (Axl's content ids and step keys: <see cref="ContentHash"/>,
/// Axl's own <see cref="Blake3Hasher"/>, with the managed Blake3 package beside it) beside SHA-256 (what S3, the code archive and OCI verify), both reading the same file from
/// the page cache in 64 KiB blocks, as Axl hashes files; the floor is reading the file without hashing it.
/// </summary>
public sealed class HashBench(BenchConfig cfg, Report report)
{
    public void Run()
    {
        var size = cfg.Quick ? 256L << 20 : 1L << 30;
        var runs = cfg.Quick ? 2 : 3;
        var file = Path.Combine(cfg.Work, "hash-input.bin");
        Directory.CreateDirectory(cfg.Work);
        using (var f = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var block = new byte[1 << 20];
            new Random(18).NextBytes(block);
            for (long written = 0; written < size; written += block.Length) f.Write(block);
        }
        try
        {
            var read = Harness.Measure("read", 1, runs, () => { using var s = Open(file); var b = new byte[1 << 16]; while (s.Read(b) > 0) { } });
            var sha = Harness.Measure("sha256", 1, runs, () => { using var s = Open(file); _ = SHA256.HashData(s); });
            var blake = Harness.Measure("blake3", 1, runs, () => { using var s = Open(file); _ = ContentHash.Of(s); });
            var package = Harness.Measure("blake3 (Blake3 package)", 1, runs, () =>
            {
                using var s = Open(file);
                using var hasher = Blake3.Hasher.New();
                var b = new byte[1 << 16];
                int n;
                while ((n = s.Read(b)) > 0) hasher.Update(b.AsSpan(0, n));
                _ = hasher.Finalize();
            });
            var s = report.Add($"Hashing a {Fmt.MB(size)} artifact: BLAKE3 and SHA-256",
                $"One file of {Fmt.MB(size)} (random bytes, in the page cache after a warm-up), hashed from a FileStream in 64 KiB blocks, {runs} timed runs each: " +
                "BLAKE3 (`ContentHash.Of`: Axl's own `Blake3Hasher`, eight chunks at once in 256-bit vectors, one thread: Axl's workflow hashes, code hashes and step keys; " +
                "beside it the managed Blake3 3.0.2 package, which Axl used before and whose AVX-512 code the JIT compiles optimised only once a process has run long) and SHA-256 " +
                "(`SHA256.HashData`: the artifact, code-archive, S3 and OCI checks, which stay SHA-256). Floor: reading the same file without hashing.");
            var t = s.Table("what", "time (median)", "spread", "MB/s", "÷ read floor", "÷ SHA-256");
            foreach (var m in new[] { read, sha, blake, package })
                t.Row(m.Name, Fmt.Seconds(m.Median), m.Spread, Fmt.MBps(size, m.Median), Fmt.Ratio(m.Median / read.Median), Fmt.Ratio(m.Median / sha.Median));
            s.Note($"BLAKE3 takes {Fmt.Ratio(blake.Median / sha.Median)} the time of SHA-256 on this machine (SHA-256 through the platform's crypto library, OpenSSL here; CPUs with SHA extensions make SHA-256 fast), and {Fmt.Ratio(blake.Median / package.Median)} the time of the Blake3 package, warm. " +
                "Axl hashes with its own code because a fresh `axl` process never runs the package's vector code optimised: ReadyToRun cannot precompile it, and a short process ends before the JIT recompiles it (bench/README.md, \"Hashing\").");
            s.Print();
        }
        finally { File.Delete(file); }
    }

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
}
