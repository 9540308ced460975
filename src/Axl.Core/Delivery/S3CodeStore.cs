using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Axl.Delivery;

/// <summary>Where code archives are stored in S3 or an S3-compatible store (MinIO, Ceph RGW, s3rver ...), and how to reach it.</summary>
public sealed record S3Options
{
    /// <summary>The S3 API endpoint as a URL (http://127.0.0.1:4568, https://minio.example.com); null for AWS S3 in <see cref="Region"/>.</summary>
    public string? Endpoint { get; init; }
    /// <summary>The region to sign for; "us-east-1" when null (what most S3-compatible stores expect).</summary>
    public string? Region { get; init; }
    public required string Bucket { get; init; }
    /// <summary>The key prefix: archives go to "&lt;prefix&gt;/code/&lt;sha256&gt;.tar.gz".</summary>
    public string Prefix { get; init; } = CodeArchive.DefaultPrefix;
    /// <summary>Address buckets as endpoint/bucket/key instead of bucket.endpoint/key: what MinIO, Ceph and s3rver need.</summary>
    public bool ForcePathStyle { get; init; }
    /// <summary>
    /// Sign uploads as streaming aws-chunked payloads, and compute the SDK's flexible request and response checksums
    /// (CRC32 trailers). Off by default: many S3-compatible stores answer 403 SignatureDoesNotMatch or 400 to them.
    /// Turn it on for AWS S3 when you want the SDK's defaults.
    /// </summary>
    public bool UseChunkEncoding { get; init; }
    /// <summary>The access key; with <see cref="SecretKey"/>. When both are null the SDK's default chain is used (environment variables, profile, instance or pod role).</summary>
    public string? AccessKey { get; init; }
    public string? SecretKey { get; init; }
    /// <summary>The Kubernetes secret (keys accessKey and secretKey) the pods use to download the archive; recorded in the <see cref="CodeArchiveLocation"/>.</summary>
    public string? CredentialsSecret { get; init; }
    /// <summary>The endpoint as the cluster reaches it (host:port, or a URL), when it differs from <see cref="Endpoint"/> (a port-forward, an ingress).</summary>
    public string? ClusterEndpoint { get; init; }
}

/// <summary>Bytes moved so far of an upload or a download.</summary>
public readonly record struct S3TransferProgress(long Transferred, long Total);

/// <summary>What an upload did: <see cref="Uploaded"/> is false when the same archive was already there.</summary>
public sealed record S3UploadResult(string Bucket, string Key, string Sha256, long Size, bool Uploaded);

/// <summary>A download: the file, its hash, and whether the hash was checked (against the one the key names, or the pinned one).</summary>
public sealed record S3DownloadResult(string File, string Key, string Sha256, long Size, bool Verified);

/// <summary>A published archive: where it is for the pods, what it holds, whether this call uploaded it.</summary>
public sealed record CodeArchivePublication(CodeArchiveLocation Location, CodeArchiveResult Archive, bool Uploaded, string? ArchiveFile);

/// <summary>An S3 operation that failed, with what to check.</summary>
public sealed class AxlCodeStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Uploads and downloads code archives with AWSSDK.S3. The hash in the key is the truth, never the object's
/// metadata: uploads are idempotent (an object whose bytes already hash to the archive's SHA-256 is not sent again;
/// any other is replaced) and downloads are verified against the key's hash.
/// </summary>
public static class S3CodeStore
{
    /// <summary>The user metadata that records the archive's SHA-256 on the object (x-amz-meta-axl-sha256), for people; never trusted.</summary>
    public const string ShaMetadata = "x-amz-meta-axl-sha256";
    public const string DefaultRegion = "us-east-1";

    public static AmazonS3Client CreateClient(S3Options options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region ?? DefaultRegion,
        };
        if (options.Endpoint is { Length: > 0 } endpoint)
        {
            var uri = ParseEndpoint(endpoint);
            config.ServiceURL = uri.GetLeftPart(UriPartial.Authority);
            config.UseHttp = uri.Scheme == Uri.UriSchemeHttp;
        }
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region ?? DefaultRegion);
        if (!options.UseChunkEncoding)
        {
            // SDK 3.7.400+/4.x compute CRC32 checksums on every request and send them as aws-chunked trailers,
            // and validate response checksums: only when the operation requires it, here.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        if (options.AccessKey is not null || options.SecretKey is not null)
        {
            if (string.IsNullOrEmpty(options.AccessKey) || string.IsNullOrEmpty(options.SecretKey))
                throw new AxlCodeStoreException("Give both the access key and the secret key, or neither (then the SDK's default credentials are used: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an instance or pod role).");
            return new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        }
        return new AmazonS3Client(config);
    }

    /// <summary>
    /// Uploads a local archive to <paramref name="key"/> unless the object already there holds the same bytes: same
    /// size, and its content (read back and hashed, never its metadata, which anyone who can write the object can
    /// set) hashes to the archive's SHA-256. Records the hash in <see cref="ShaMetadata"/> for people reading the
    /// bucket; Axl never trusts it. A key made by <see cref="CodeArchive.Key"/> must name the archive's own hash.
    /// </summary>
    public static async Task<S3UploadResult> UploadAsync(string localFile, string key, S3Options options, IProgress<S3TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(localFile)) throw new FileNotFoundException($"The archive '{localFile}' does not exist.", localFile);
        var sha = CodeArchive.HashFile(localFile);
        var size = new FileInfo(localFile).Length;
        if (CodeArchive.HashFromKey(key) is { } named && !string.Equals(named, sha, StringComparison.OrdinalIgnoreCase))
            throw new AxlCodeStoreException($"The key {key} names the archive {named}, but {localFile} hashes to {sha}; it would be stored under another archive's name. Fix: use CodeArchive.Key of the archive's hash (Publish-AxlWorkflowCode does).");
        using var client = CreateClient(options);
        var existing = await HeadAsync(client, options, key, cancellationToken).ConfigureAwait(false);
        if (existing is not null && existing.ContentLength == size && await StoredHashAsync(client, options, key, cancellationToken).ConfigureAwait(false) == sha)
        {
            progress?.Report(new S3TransferProgress(size, size));
            return new S3UploadResult(options.Bucket, key, sha, size, Uploaded: false);
        }
        var request = new PutObjectRequest
        {
            BucketName = options.Bucket,
            Key = key,
            FilePath = localFile,
            ContentType = "application/gzip",
            UseChunkEncoding = options.UseChunkEncoding,
        };
        request.Metadata.Add(ShaMetadata, sha);
        if (progress is not null) request.StreamTransferProgress += (_, e) => progress.Report(new S3TransferProgress(e.TransferredBytes, e.TotalBytes));
        await Call(options, key, "upload", () => client.PutObjectAsync(request, cancellationToken)).ConfigureAwait(false);
        // The SDK reports on its own schedule (a small file may finish before its first report): the end is always reported.
        progress?.Report(new S3TransferProgress(size, size));
        return new S3UploadResult(options.Bucket, key, sha, size, Uploaded: true);
    }

    /// <summary>The SHA-256 of an object's bytes, read and hashed as they stream (nothing is written).</summary>
    private static async Task<string> StoredHashAsync(AmazonS3Client client, S3Options options, string key, CancellationToken ct)
    {
        using var response = await Call(options, key, "check", () => client.GetObjectAsync(options.Bucket, key, ct)).ConfigureAwait(false);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int n;
        while ((n = await response.ResponseStream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0) sha.AppendData(buffer, 0, n);
        return Hashing.Sha256Text.FromDigest(sha.GetHashAndReset());
    }

    /// <summary>
    /// Downloads an object to a temporary file beside <paramref name="localFile"/>, checks that its bytes hash to the
    /// SHA-256 its key names (<see cref="CodeArchive.Key"/>), or to <paramref name="expectedSha256"/> (a location's
    /// pinned hash; both must agree when both are there), then renames it into place. The object's metadata is never
    /// trusted: whoever replaced the bytes could have set it too. A mismatch leaves nothing behind. A key that names no
    /// hash, without <paramref name="expectedSha256"/>, is downloaded unverified (<see cref="S3DownloadResult.Verified"/> false).
    /// </summary>
    public static async Task<S3DownloadResult> DownloadAsync(string key, string localFile, S3Options options, IProgress<S3TransferProgress>? progress = null, CancellationToken cancellationToken = default, string? expectedSha256 = null)
    {
        var named = CodeArchive.HashFromKey(key);
        var pinned = expectedSha256?.Trim().ToLowerInvariant();
        if (named is not null && pinned is not null && named != pinned)
            throw new AxlCodeStoreException($"s3://{options.Bucket}/{key} names the archive {named}, but {pinned} was pinned; refusing to download another archive than the one pinned. Fix: use the location Publish-AxlWorkflowCode gave, unchanged.");
        var expected = named ?? pinned;
        localFile = Path.GetFullPath(localFile);
        Directory.CreateDirectory(Path.GetDirectoryName(localFile)!);
        var temp = localFile + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        using var client = CreateClient(options);
        try
        {
            using var response = await Call(options, key, "download", () => client.GetObjectAsync(options.Bucket, key, cancellationToken)).ConfigureAwait(false);
            string actual;
            long size = 0;
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var buffer = new byte[81920];
                int n;
                while ((n = await response.ResponseStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await fs.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    sha.AppendData(buffer, 0, n);
                    size += n;
                    progress?.Report(new S3TransferProgress(size, response.ContentLength));
                }
                actual = Hashing.Sha256Text.FromDigest(sha.GetHashAndReset());
            }
            if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                throw new AxlCodeStoreException($"s3://{options.Bucket}/{key} is corrupted or was replaced: its bytes hash to {actual}, but its {(named is not null ? "key names" : "location pins")} {expected}. Nothing was kept. Publish the code again (Publish-AxlWorkflowCode uploads it anew).");
            File.Move(temp, localFile, overwrite: true);
            return new S3DownloadResult(localFile, key, actual, size, Verified: expected is not null);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Makes the archive of <paramref name="root"/>, uploads it (unless already there) and gives its location for the pods.</summary>
    public static async Task<CodeArchivePublication> PublishAsync(string root, S3Options options, CodeArchiveOptions? archiveOptions = null, string? keepArchiveAt = null,
        IProgress<S3TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var file = keepArchiveAt ?? Path.Combine(Path.GetTempPath(), "axl-code-" + Guid.NewGuid().ToString("N")[..12] + ".tar.gz");
        try
        {
            var archive = CodeArchive.CreateFile(root, file, archiveOptions);
            var key = CodeArchive.Key(archive.Sha256, options.Prefix);
            var upload = await UploadAsync(archive.File!, key, options, progress, cancellationToken).ConfigureAwait(false);
            return new CodeArchivePublication(LocationOf(options, key, archive.Sha256, Path.GetFullPath(root)), archive, upload.Uploaded, keepArchiveAt is null ? null : archive.File);
        }
        finally
        {
            if (keepArchiveAt is null && File.Exists(file)) File.Delete(file);
        }
    }

    /// <summary>Synchronous <see cref="PublishAsync"/>, giving the location only.</summary>
    public static CodeArchiveLocation Publish(string root, S3Options options, CodeArchiveOptions? archiveOptions = null) =>
        PublishAsync(root, options, archiveOptions).GetAwaiter().GetResult().Location;

    /// <summary>
    /// The location the compilers wire in: the endpoint as host:port without scheme (Argo's form), insecure when it is
    /// plain http; <paramref name="codeRoot"/> is the local folder the archive was made from (compilers name the
    /// workflow file relative to it).
    /// </summary>
    public static CodeArchiveLocation LocationOf(S3Options options, string key, string sha256, string? codeRoot = null)
    {
        var endpoint = options.ClusterEndpoint ?? options.Endpoint;
        string? hostPort = null;
        bool insecure = false;
        if (endpoint is { Length: > 0 })
        {
            var uri = ParseEndpoint(endpoint);
            hostPort = uri.Authority;
            insecure = uri.Scheme == Uri.UriSchemeHttp;
        }
        return new CodeArchiveLocation
        {
            Bucket = options.Bucket,
            Key = key,
            Sha256 = sha256,
            Endpoint = hostPort,
            Region = options.Region,
            Insecure = insecure,
            CredentialsSecret = options.CredentialsSecret,
            CodeRoot = codeRoot,
        };
    }

    /// <summary>A URL from "http://host:port", "https://host" or "host:port" (https assumed without a scheme).</summary>
    public static Uri ParseEndpoint(string endpoint)
    {
        var text = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "https://" + endpoint;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            throw new AxlCodeStoreException($"The S3 endpoint '{endpoint}' is not a URL such as http://minio.example:9000 or https://s3.example.com.");
        return uri;
    }

    private static async Task<GetObjectMetadataResponse?> HeadAsync(AmazonS3Client client, S3Options options, string key, CancellationToken ct)
    {
        try
        {
            return await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = options.Bucket, Key = key }, ct).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode is null or "NotFound" or "NoSuchKey")
        {
            return null;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw Explain(options, key, "check", ex);
        }
    }

    private static async Task<T> Call<T>(S3Options options, string key, string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw Explain(options, key, what, ex);
        }
    }

    /// <summary>The failure with what usually causes it.</summary>
    private static AxlCodeStoreException Explain(S3Options options, string key, string what, Exception ex)
    {
        var where = $"s3://{options.Bucket}/{key}{(options.Endpoint is null ? "" : " at " + options.Endpoint)}";
        var code = (ex as AmazonServiceException)?.ErrorCode;
        var status = (ex as AmazonServiceException)?.StatusCode;
        var hint = code switch
        {
            "NoSuchBucket" => $"The bucket '{options.Bucket}' does not exist; create it (or use the bucket of the cluster's artifact repository).",
            "NoSuchKey" => "The object does not exist; publish the code first (Publish-AxlWorkflowCode).",
            "SignatureDoesNotMatch" => "The secret key is wrong, or the store rejects the SDK's signing: for MinIO, Ceph or s3rver keep UseChunkEncoding off (the default) and set ForcePathStyle.",
            "InvalidAccessKeyId" => "The access key is not known to the store; check the credentials.",
            "AccessDenied" => "The credentials may not do this on the bucket; check the bucket policy, or the keys.",
            _ when status == HttpStatusCode.Forbidden => "403: wrong keys, or a store that rejects streaming signatures or checksums: keep UseChunkEncoding off (the default) and set ForcePathStyle for MinIO, Ceph or s3rver.",
            _ when status == HttpStatusCode.NotFound && what == "download" => "The object does not exist; publish the code first (Publish-AxlWorkflowCode).",
            _ when status == HttpStatusCode.NotFound => $"Not found: check the bucket '{options.Bucket}' exists, and ForcePathStyle for stores that do not serve bucket subdomains.",
            _ when ex is AmazonClientException && ex.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                "No credentials were found: give an access key and a secret key (-Credential), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile.",
            _ when ex is HttpRequestException || ex.InnerException is HttpRequestException || ex.InnerException is System.Net.Sockets.SocketException =>
                $"The endpoint cannot be reached; check the URL ({options.Endpoint ?? "AWS S3"}), that the store runs, and http vs https.",
            _ => null,
        };
        var detail = code is null ? ex.Message : $"{(int?)status} {code}: {ex.Message}";
        return new AxlCodeStoreException($"Cannot {what} {where}: {detail}{(hint is null ? "" : " " + hint)}", ex);
    }
}
