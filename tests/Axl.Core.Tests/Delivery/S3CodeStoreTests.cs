using Axl.Delivery;
using Axl.TestServices;

namespace Axl.Core.Tests.Delivery;

/// <summary>
/// Uploads and downloads against a real S3 API: s3rver 3.7.1 (see tests/services/S3rver.cs for where it comes from).
/// The tests look at the objects with anonymous HTTP requests, behind the store's back.
/// </summary>
public sealed class S3CodeStoreTests(S3rver s3) : IClassFixture<S3rver>, IDisposable
{
    private readonly string _endpoint = s3.Endpoint; // fails every test here, with how to fix it, when there is no s3rver
    private readonly TempTree _t = new("s3-");

    public void Dispose() => _t.Dispose();

    private S3Options Options(string bucket) => new()
    {
        Endpoint = _endpoint,
        Bucket = bucket,
        ForcePathStyle = true,
        AccessKey = S3rver.AccessKey,
        SecretKey = S3rver.SecretKey,
        CredentialsSecret = "s3-creds",
    };

    /// <summary>A code tree with content of its own, so its key is new.</summary>
    private string Code(string name = "code")
    {
        _t.Write($"{name}/flow.axl.ps1", "AxlWorkflow w { Step a { 1 } }\n# " + Guid.NewGuid() + "\n");
        _t.Write($"{name}/lib/helpers.ps1", "function H { 1 }\n");
        return _t.Path(name);
    }

    [S3Fact]
    public async Task Upload_records_the_hash_and_a_second_upload_of_the_same_archive_sends_nothing()
    {
        var bucket = s3.NewBucket();
        var archive = CodeArchive.CreateFile(Code(), _t.Path("code.tar.gz"));
        var key = CodeArchive.Key(archive.Sha256);
        var progress = new List<S3TransferProgress>();

        var first = await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket), new SyncProgress(progress.Add));
        Assert.True(first.Uploaded);
        Assert.Equal(archive.Sha256, first.Sha256);
        Assert.NotEmpty(progress);
        var head = s3.Head(bucket, key)!;
        Assert.Equal(archive.Sha256, head["x-amz-meta-axl-sha256"]);
        Assert.Equal(archive.Size.ToString(), head["Content-Length"]);
        Assert.Equal(File.ReadAllBytes(archive.File!), s3.Get(bucket, key)); // stored byte for byte (no aws-chunked framing)

        Thread.Sleep(1100); // Last-Modified has a resolution of one second
        var second = await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket));
        Assert.False(second.Uploaded);
        Assert.Equal(head["Last-Modified"], s3.Head(bucket, key)!["Last-Modified"]); // no second PUT
    }

    [S3Fact]
    public async Task An_object_is_uploaded_again_unless_its_bytes_hash_to_its_key_whatever_its_metadata_claims()
    {
        var bucket = s3.NewBucket();
        var archive = CodeArchive.CreateFile(Code(), _t.Path("code.tar.gz"));
        var key = CodeArchive.Key(archive.Sha256);
        var bytes = File.ReadAllBytes(archive.File!);
        var forged = (byte[])bytes.Clone();
        forged[^5] ^= 0xff; // same size, other bytes
        var forgedSha = "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(forged)).ToLowerInvariant();

        // The right bytes without metadata: nothing to send (the metadata is not what is trusted).
        s3.Put(bucket, key, bytes);
        Assert.False((await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket))).Uploaded);

        // Forged bytes of the same size with the archive's hash in the metadata: replaced.
        s3.Put(bucket, key, forged, new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = archive.Sha256 });
        Assert.True((await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket))).Uploaded);
        Assert.Equal(bytes, s3.Get(bucket, key));
        Assert.Equal(archive.Sha256, s3.Head(bucket, key)!["x-amz-meta-axl-sha256"]);

        // Forged bytes with their own hash in the metadata: replaced too.
        s3.Put(bucket, key, forged, new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = forgedSha });
        Assert.True((await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket))).Uploaded);
        Assert.Equal(bytes, s3.Get(bucket, key));

        // Another size, the hash claimed: replaced.
        s3.Put(bucket, key, bytes[..^1], new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = archive.Sha256 });
        Assert.True((await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket))).Uploaded);
        Assert.Equal(bytes, s3.Get(bucket, key));

        // A key that names another archive is refused before anything is sent.
        var other = CodeArchive.Key(forgedSha);
        var ex = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.UploadAsync(archive.File!, other, Options(bucket)));
        Assert.Contains($"names the archive {forgedSha}", ex.Message);
        Assert.Null(s3.Head(bucket, other));
    }

    [S3Fact]
    public async Task Download_verifies_the_hash_and_leaves_nothing_when_it_does_not_match()
    {
        var bucket = s3.NewBucket();
        var publication = await S3CodeStore.PublishAsync(Code(), Options(bucket));
        var key = publication.Location.Key;

        var target = _t.Path("dl/code.tar.gz");
        var download = await S3CodeStore.DownloadAsync(key, target, Options(bucket));
        Assert.True(download.Verified);
        Assert.Equal(publication.Location.Sha256, download.Sha256);
        Assert.Equal(publication.Location.Sha256, CodeArchive.HashFile(target));
        var x = CodeArchive.Extract(target, _t.Path("workdir"));
        Assert.True(File.Exists(Path.Combine(x.Destination, "flow.axl.ps1")));

        // Replaced behind our back, recorded hash kept: refused.
        s3.Put(bucket, key, new byte[] { 1, 2, 3 }, new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = publication.Location.Sha256 });
        var bad = _t.Path("dl/bad.tar.gz");
        var ex = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync(key, bad, Options(bucket)));
        Assert.Contains("corrupted or was replaced", ex.Message);
        Assert.False(File.Exists(bad));
        Assert.Single(Directory.GetFiles(_t.Path("dl"))); // no temporary file left

        // Without metadata the key's own hash is checked.
        s3.Put(bucket, key, new byte[] { 1, 2, 3 });
        await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync(key, bad, Options(bucket)));

        // Forged bytes whose metadata names their own hash: the key wins, refused.
        var forged = new byte[] { 4, 5, 6 };
        var forgedSha = "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(forged)).ToLowerInvariant();
        s3.Put(bucket, key, forged, new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = forgedSha });
        ex = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync(key, bad, Options(bucket)));
        Assert.Contains($"its bytes hash to {forgedSha}, but its key names {publication.Location.Sha256}", ex.Message);
        Assert.False(File.Exists(bad));

        // The right bytes with a wrong hash in the metadata: the key wins, accepted.
        s3.Put(bucket, key, File.ReadAllBytes(target), new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = forgedSha });
        Assert.True((await S3CodeStore.DownloadAsync(key, bad, Options(bucket))).Verified);
        File.Delete(bad);

        // A key that names no hash: checked against the pinned one when given, never against the metadata.
        s3.Put(bucket, "custom/code.tar.gz", forged, new Dictionary<string, string> { ["x-amz-meta-axl-sha256"] = forgedSha });
        ex = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync("custom/code.tar.gz", bad, Options(bucket), expectedSha256: publication.Location.Sha256));
        Assert.Contains("its location pins", ex.Message);
        Assert.False((await S3CodeStore.DownloadAsync("custom/code.tar.gz", bad, Options(bucket))).Verified);
    }

    [S3Fact]
    public async Task Publish_gives_the_location_in_Argos_form()
    {
        var bucket = s3.NewBucket();
        var root = Code();
        var publication = await S3CodeStore.PublishAsync(root, Options(bucket) with { Prefix = "team/a", Region = "eu-west-1" });
        var loc = publication.Location;
        Assert.True(publication.Uploaded);
        Assert.Equal(bucket, loc.Bucket);
        Assert.Matches("^team/a/code/[0-9a-f]{64}\\.tar\\.gz$", loc.Key);
        Assert.Equal(CodeArchive.Key(loc.Sha256, "team/a"), loc.Key);
        Assert.Equal(new Uri(s3.Endpoint).Authority, loc.Endpoint);
        Assert.True(loc.Insecure);
        Assert.Equal("eu-west-1", loc.Region);
        Assert.Equal("s3-creds", loc.CredentialsSecret);
        Assert.Equal(Path.GetFullPath(root), loc.CodeRoot);
        Assert.NotNull(s3.Head(bucket, loc.Key));

        var again = await S3CodeStore.PublishAsync(root, Options(bucket) with { Prefix = "team/a", Region = "eu-west-1" });
        Assert.False(again.Uploaded);
        Assert.Equal(loc, again.Location);

        var cluster = S3CodeStore.LocationOf(Options(bucket) with { ClusterEndpoint = "minio.argo:9000" }, loc.Key, loc.Sha256);
        Assert.Equal("minio.argo:9000", cluster.Endpoint);
        Assert.False(cluster.Insecure); // no scheme: https
        Assert.True(S3CodeStore.LocationOf(Options(bucket) with { ClusterEndpoint = "http://minio.argo:9000" }, loc.Key, loc.Sha256).Insecure);
    }

    [S3Fact]
    public async Task Chunk_encoding_is_off_by_default_because_s3rver_would_store_the_chunk_framing()
    {
        // What the option is for: with the SDK's streaming signatures s3rver accepts the PUT but keeps the
        // aws-chunked framing ("<size>;chunk-signature=...") as the object's content. Verification catches it.
        var bucket = s3.NewBucket();
        var archive = CodeArchive.CreateFile(Code(), _t.Path("code.tar.gz"));
        var key = CodeArchive.Key(archive.Sha256);
        await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket) with { UseChunkEncoding = true });
        var stored = s3.Get(bucket, key)!;
        Assert.NotEqual(archive.Size, stored.LongLength);
        Assert.Contains("chunk-signature=", System.Text.Encoding.ASCII.GetString(stored));
        var ex = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync(key, _t.Path("dl.tar.gz"), Options(bucket)));
        Assert.Contains("corrupted or was replaced", ex.Message);

        // The default uploads it again (the size differs) and correctly.
        Assert.True((await S3CodeStore.UploadAsync(archive.File!, key, Options(bucket))).Uploaded);
        Assert.True((await S3CodeStore.DownloadAsync(key, _t.Path("dl.tar.gz"), Options(bucket))).Verified);
    }

    [S3Fact]
    public async Task Failures_say_what_to_check()
    {
        var archive = CodeArchive.CreateFile(Code(), _t.Path("code.tar.gz"));
        var noBucket = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.UploadAsync(archive.File!, "k", Options("no-such-bucket-" + Guid.NewGuid().ToString("N")[..6])));
        Assert.Contains("NoSuchBucket", noBucket.Message);
        Assert.Contains("does not exist; create it", noBucket.Message);

        var noKey = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.DownloadAsync("axl/code/none.tar.gz", _t.Path("x.tar.gz"), Options(s3.NewBucket())));
        Assert.Contains("publish the code first", noKey.Message);

        var down = await Assert.ThrowsAsync<AxlCodeStoreException>(() => S3CodeStore.UploadAsync(archive.File!, "k", Options("b") with { Endpoint = "http://127.0.0.1:1" }));
        Assert.Contains("cannot be reached", down.Message);

        Assert.Throws<AxlCodeStoreException>(() => S3CodeStore.CreateClient(Options("b") with { SecretKey = null }));
        Assert.Throws<AxlCodeStoreException>(() => S3CodeStore.ParseEndpoint("ftp://x"));
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this one reports at once.</summary>
    private sealed class SyncProgress(Action<S3TransferProgress> report) : IProgress<S3TransferProgress>
    {
        private readonly object _gate = new();
        public void Report(S3TransferProgress value) { lock (_gate) report(value); }
    }
}
