namespace Axl.Delivery;

/// <summary>
/// A gzip (RFC 1952) writer whose output depends only on its input bytes: the same bytes give the same archive on
/// every machine, operating system, CPU and .NET version.
/// </summary>
/// <remarks>
/// <see cref="System.IO.Compression.GZipStream"/> cannot promise that: it calls the native zlib the runtime ships
/// (zlib up to .NET 8, zlib-ng from .NET 9, whose match finder has CPU-specific code paths), and it writes the
/// OS byte of the platform (3 on Unix). The same files would then hash differently under pwsh 7.4 (.NET 8) and
/// the axl command (.NET 10), and a content-addressed key would change with the tool, not with the code.
/// So compression is done here, in managed code with fixed parameters: LZ77 over a 32 KiB window with hash chains
/// (chain length 128, one step of lazy matching), dynamic Huffman blocks of at most 16384 symbols, or a stored block
/// when that is smaller. The header is fixed: no file name, mtime 0, XFL 0, OS 255 ("unknown").
/// Any inflater reads the result (GZipStream, gzip, Go's compress/gzip).
/// Changing any constant here changes every archive hash: treat them as part of the archive format.
/// </remarks>
public static class DeterministicGzip
{
    /// <summary>The 10 header bytes every archive starts with.</summary>
    public static ReadOnlySpan<byte> Header => new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };

    public static void Compress(ReadOnlySpan<byte> input, Stream output)
    {
        output.Write(Header);
        var writer = new BitWriter(output);
        new Deflater(writer).Compress(input);
        writer.Flush();
        Span<byte> trailer = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer, Crc32.Compute(input));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], unchecked((uint)input.Length));
        output.Write(trailer);
    }

    public static byte[] Compress(ReadOnlySpan<byte> input)
    {
        using var ms = new MemoryStream();
        Compress(input, ms);
        return ms.ToArray();
    }

    internal static class Crc32
    {
        private static readonly uint[] Table = BuildTable();

        private static uint[] BuildTable()
        {
            var t = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                var c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[n] = c;
            }
            return t;
        }

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            uint c = 0xFFFFFFFFu;
            foreach (var b in data) c = Table[(c ^ b) & 0xff] ^ (c >> 8);
            return c ^ 0xFFFFFFFFu;
        }
    }

    /// <summary>Packs bits least significant first, as deflate wants.</summary>
    internal sealed class BitWriter(Stream output)
    {
        private ulong _bits;
        private int _count;
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _used;

        public void Write(uint value, int count)
        {
            if (count == 0) return;
            _bits |= (ulong)value << _count;
            _count += count;
            while (_count >= 8)
            {
                _buffer[_used++] = (byte)_bits;
                _bits >>= 8;
                _count -= 8;
                if (_used == _buffer.Length) Drain();
            }
        }

        /// <summary>Pads with zero bits to the next byte boundary.</summary>
        public void Align()
        {
            if (_count > 0) Write(0, 8 - _count);
        }

        public void WriteBytes(ReadOnlySpan<byte> bytes)
        {
            Align();
            Drain();
            output.Write(bytes);
        }

        public void Flush()
        {
            Align();
            Drain();
        }

        private void Drain()
        {
            output.Write(_buffer, 0, _used);
            _used = 0;
        }
    }

    internal sealed class Deflater(BitWriter writer)
    {
        private const int WindowSize = 1 << 15;
        private const int WindowMask = WindowSize - 1;
        private const int HashBits = 15;
        private const int MinMatch = 3;
        private const int MaxMatch = 258;
        private const int MaxChain = 128;
        private const int NiceLength = 128;
        private const int TooFar = 4096;
        private const int BlockSymbols = 16384;
        private const int MaxStored = 65535;

        private static readonly int[] LengthBase = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
        private static readonly int[] LengthExtra = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
        private static readonly int[] DistBase = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
        private static readonly int[] DistExtra = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
        private static readonly int[] CodeLengthOrder = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
        private static readonly byte[] LengthCodeOf = BuildLengthCodes();
        private static readonly byte[] DistCodeOf = BuildDistCodes();

        private static byte[] BuildLengthCodes()
        {
            var t = new byte[MaxMatch + 1];
            for (int code = 0; code < LengthBase.Length; code++)
            {
                var end = code + 1 < LengthBase.Length ? LengthBase[code + 1] : MaxMatch + 1;
                for (int len = LengthBase[code]; len < end && len <= MaxMatch; len++) t[len] = (byte)code;
            }
            t[MaxMatch] = 28;
            return t;
        }

        private static byte[] BuildDistCodes()
        {
            var t = new byte[WindowSize + 1];
            for (int code = 0; code < DistBase.Length; code++)
            {
                var end = code + 1 < DistBase.Length ? DistBase[code + 1] : WindowSize + 1;
                for (int d = DistBase[code]; d < end; d++) t[d] = (byte)code;
            }
            return t;
        }

        // The pending block: literal (dist 0) or (length, distance) pairs.
        private readonly ushort[] _lit = new ushort[BlockSymbols];
        private readonly ushort[] _dist = new ushort[BlockSymbols];
        private int _symbols;
        private int _blockStart;

        public void Compress(ReadOnlySpan<byte> input)
        {
            int n = input.Length;
            var head = new int[1 << HashBits];
            Array.Fill(head, -1);
            var prev = new int[WindowSize];
            Array.Fill(prev, -1);

            int Hash(ReadOnlySpan<byte> data, int p) => (int)(((uint)(data[p] | data[p + 1] << 8 | data[p + 2] << 16) * 0x9E3779B1u) >> (32 - HashBits));
            void Insert(ReadOnlySpan<byte> data, int p)
            {
                if (p + MinMatch > data.Length) return;
                var h = Hash(data, p);
                prev[p & WindowMask] = head[h];
                head[h] = p;
            }
            (int Length, int Distance) Find(ReadOnlySpan<byte> data, int p)
            {
                int maxLen = Math.Min(MaxMatch, data.Length - p);
                if (maxLen < MinMatch) return (0, 0);
                int best = MinMatch - 1, bestDist = 0, chain = MaxChain, limit = Math.Max(0, p - WindowSize);
                var target = data.Slice(p, maxLen);
                for (int cand = head[Hash(data, p)]; cand >= limit && chain-- > 0; cand = prev[cand & WindowMask])
                {
                    if (data[cand + best] != target[best]) continue;
                    int len = data.Slice(cand, maxLen).CommonPrefixLength(target);
                    if (len > best)
                    {
                        best = len;
                        bestDist = p - cand;
                        if (len >= NiceLength || len == maxLen) break;
                    }
                }
                if (best < MinMatch || (best == MinMatch && bestDist > TooFar)) return (0, 0);
                return (best, bestDist);
            }

            int pos = 0, prevLen = 0, prevDist = 0;
            bool pending = false; // a literal or match at pos - 1 waits for the lazy decision
            while (pos < n)
            {
                var cur = pending && prevLen >= NiceLength ? (0, 0) : Find(input, pos);
                Insert(input, pos);
                if (pending && prevLen >= MinMatch && cur.Item1 <= prevLen)
                {
                    EmitMatch(input, prevLen, prevDist, pos - 1);
                    int end = pos - 1 + prevLen;
                    for (int p = pos + 1; p < end; p++) Insert(input, p);
                    pos = end;
                    pending = false;
                    prevLen = 0;
                }
                else
                {
                    if (pending) EmitLiteral(input, pos - 1);
                    pending = true;
                    (prevLen, prevDist) = cur;
                    pos++;
                }
            }
            if (pending)
            {
                if (prevLen >= MinMatch) EmitMatch(input, prevLen, prevDist, pos - 1);
                else EmitLiteral(input, pos - 1);
            }
            FlushBlock(input, n, final: true);
        }

        private void EmitLiteral(ReadOnlySpan<byte> input, int at)
        {
            _lit[_symbols] = input[at];
            _dist[_symbols] = 0;
            if (++_symbols == BlockSymbols) FlushBlock(input, at + 1, final: false);
        }

        private void EmitMatch(ReadOnlySpan<byte> input, int length, int distance, int at)
        {
            _lit[_symbols] = (ushort)length;
            _dist[_symbols] = (ushort)distance;
            if (++_symbols == BlockSymbols) FlushBlock(input, at + length, final: false);
        }

        private void FlushBlock(ReadOnlySpan<byte> input, int end, bool final)
        {
            var litFreq = new int[286];
            var distFreq = new int[30];
            for (int i = 0; i < _symbols; i++)
            {
                if (_dist[i] == 0) litFreq[_lit[i]]++;
                else
                {
                    litFreq[257 + LengthCodeOf[_lit[i]]]++;
                    distFreq[DistCodeOf[_dist[i]]]++;
                }
            }
            litFreq[256] = 1;
            var litLen = Huffman.Lengths(litFreq, 15);
            var distLen = Huffman.Lengths(distFreq, 15);

            int hlit = 286;
            while (hlit > 257 && litLen[hlit - 1] == 0) hlit--;
            int hdist = 30;
            while (hdist > 1 && distLen[hdist - 1] == 0) hdist--;
            var all = new int[hlit + hdist];
            Array.Copy(litLen, all, hlit);
            Array.Copy(distLen, 0, all, hlit, hdist);
            var rle = RunLengths(all);
            var clFreq = new int[19];
            foreach (var (sym, _) in rle) clFreq[sym]++;
            var clLen = Huffman.Lengths(clFreq, 7);
            int hclen = 19;
            while (hclen > 4 && clLen[CodeLengthOrder[hclen - 1]] == 0) hclen--;

            long dynamicBits = 3 + 5 + 5 + 4 + 3L * hclen;
            foreach (var (sym, _) in rle) dynamicBits += clLen[sym] + (sym == 16 ? 2 : sym == 17 ? 3 : sym == 18 ? 7 : 0);
            for (int s = 0; s < 286; s++) dynamicBits += (long)litFreq[s] * (litLen[s] + (s > 256 ? LengthExtra[s - 257] : 0));
            for (int s = 0; s < 30; s++) dynamicBits += (long)distFreq[s] * (distLen[s] + DistExtra[s]);

            int rawLength = end - _blockStart;
            int chunks = Math.Max(1, (rawLength + MaxStored - 1) / MaxStored);
            long storedBits = chunks * (3L + 7 + 32) + 8L * rawLength;

            if (storedBits < dynamicBits)
            {
                var raw = input.Slice(_blockStart, rawLength);
                for (int c = 0; c < chunks; c++)
                {
                    var part = raw.Slice(c * MaxStored, Math.Min(MaxStored, raw.Length - c * MaxStored));
                    writer.Write(final && c == chunks - 1 ? 1u : 0u, 1);
                    writer.Write(0, 2);
                    writer.Align();
                    writer.Write((uint)part.Length, 16);
                    writer.Write((uint)(~part.Length & 0xffff), 16);
                    writer.WriteBytes(part);
                }
            }
            else
            {
                var litCodes = Huffman.Codes(litLen);
                var distCodes = Huffman.Codes(distLen);
                var clCodes = Huffman.Codes(clLen);
                writer.Write(final ? 1u : 0u, 1);
                writer.Write(2, 2);
                writer.Write((uint)(hlit - 257), 5);
                writer.Write((uint)(hdist - 1), 5);
                writer.Write((uint)(hclen - 4), 4);
                for (int i = 0; i < hclen; i++) writer.Write((uint)clLen[CodeLengthOrder[i]], 3);
                foreach (var (sym, extra) in rle)
                {
                    writer.Write(clCodes[sym], clLen[sym]);
                    if (sym == 16) writer.Write((uint)extra, 2);
                    else if (sym == 17) writer.Write((uint)extra, 3);
                    else if (sym == 18) writer.Write((uint)extra, 7);
                }
                for (int i = 0; i < _symbols; i++)
                {
                    if (_dist[i] == 0)
                    {
                        writer.Write(litCodes[_lit[i]], litLen[_lit[i]]);
                        continue;
                    }
                    int len = _lit[i], lc = LengthCodeOf[len];
                    writer.Write(litCodes[257 + lc], litLen[257 + lc]);
                    writer.Write((uint)(len - LengthBase[lc]), LengthExtra[lc]);
                    int dist = _dist[i], dc = DistCodeOf[dist];
                    writer.Write(distCodes[dc], distLen[dc]);
                    writer.Write((uint)(dist - DistBase[dc]), DistExtra[dc]);
                }
                writer.Write(litCodes[256], litLen[256]);
            }
            _symbols = 0;
            _blockStart = end;
        }

        /// <summary>Code lengths as the code-length alphabet: 0-15 literally, 16 repeat previous 3-6, 17 zeros 3-10, 18 zeros 11-138.</summary>
        private static List<(int Symbol, int Extra)> RunLengths(int[] lengths)
        {
            var result = new List<(int, int)>();
            int i = 0;
            while (i < lengths.Length)
            {
                int v = lengths[i], run = 1;
                while (i + run < lengths.Length && lengths[i + run] == v) run++;
                if (v == 0)
                {
                    int left = run;
                    while (left >= 11) { var r = Math.Min(left, 138); result.Add((18, r - 11)); left -= r; }
                    if (left >= 3) { result.Add((17, left - 3)); left = 0; }
                    while (left-- > 0) result.Add((0, 0));
                }
                else
                {
                    result.Add((v, 0));
                    int left = run - 1;
                    while (left >= 3) { var r = Math.Min(left, 6); result.Add((16, r - 3)); left -= r; }
                    while (left-- > 0) result.Add((v, 0));
                }
                i += run;
            }
            return result;
        }
    }

    internal static class Huffman
    {
        /// <summary>
        /// Code lengths for the frequencies, none longer than <paramref name="maxBits"/>. At least two symbols get a code
        /// (a deflate decoder wants a complete code). Ties are broken by symbol and node order, so the result is a pure
        /// function of the frequencies; when the tree is too deep the frequencies are halved and it is built again.
        /// </summary>
        public static int[] Lengths(int[] freq, int maxBits)
        {
            var f = (int[])freq.Clone();
            int used = f.Count(x => x > 0);
            for (int s = 0; used < 2 && s < f.Length; s++)
                if (f[s] == 0) { f[s] = 1; used++; }
            while (true)
            {
                var lengths = Build(f);
                if (lengths.Max() <= maxBits) return lengths;
                for (int s = 0; s < f.Length; s++)
                    if (f[s] > 0) f[s] = (f[s] >> 1) | 1;
            }
        }

        private static int[] Build(int[] f)
        {
            int n = f.Length;
            var parent = new int[2 * n];
            var queue = new PriorityQueue<int, (long Weight, int Id)>();
            int next = n;
            for (int s = 0; s < n; s++)
                if (f[s] > 0) queue.Enqueue(s, (f[s], s));
            while (queue.Count > 1)
            {
                queue.TryDequeue(out var a, out var pa);
                queue.TryDequeue(out var b, out var pb);
                parent[a] = next;
                parent[b] = next;
                queue.Enqueue(next, (pa.Weight + pb.Weight, next));
                next++;
            }
            var root = next - 1;
            var depth = new int[2 * n];
            for (int node = root - 1; node >= n; node--) depth[node] = depth[parent[node]] + 1;
            var lengths = new int[n];
            for (int s = 0; s < n; s++)
                if (f[s] > 0) lengths[s] = depth[parent[s]] + 1;
            return lengths;
        }

        /// <summary>Canonical codes (RFC 1951 3.2.2), bit-reversed for the LSB-first bit writer.</summary>
        public static uint[] Codes(int[] lengths)
        {
            var count = new int[16];
            foreach (var l in lengths) if (l > 0) count[l]++;
            var nextCode = new int[16];
            int code = 0;
            for (int bits = 1; bits < 16; bits++)
            {
                code = (code + count[bits - 1]) << 1;
                nextCode[bits] = code;
            }
            var codes = new uint[lengths.Length];
            for (int s = 0; s < lengths.Length; s++)
            {
                int len = lengths[s];
                if (len == 0) continue;
                uint c = (uint)nextCode[len]++, r = 0;
                for (int i = 0; i < len; i++) { r = (r << 1) | (c & 1); c >>= 1; }
                codes[s] = r;
            }
            return codes;
        }
    }
}
