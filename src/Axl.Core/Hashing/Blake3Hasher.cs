using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Axl.Hashing;

/// <summary>
/// BLAKE3 (the 256-bit hash, no key, no derivation), as the specification describes it: 1 KiB chunks of 64-byte
/// blocks, each chunk's chaining value merged into a binary tree of parent nodes, the root compressed with the ROOT
/// flag. Incremental: <see cref="Update"/> any number of times, then <see cref="Finalize"/> once.
/// </summary>
/// <remarks>
/// Why not the Blake3 package alone: its compression functions are vectorised for the machine's widest SIMD
/// (AVX-512 here), which ReadyToRun cannot precompile, so in a fresh <c>axl</c> process they run as the JIT's
/// unoptimised first tier for the whole (short) life of the process: hashing a 10,000-step workflow's definition took
/// 50-70 ms there against 3-4 ms warm. Here the compression functions are marked for full optimisation, so the JIT
/// compiles them optimised, for the machine's vectors, the first time they run (once, a few ms) and they need no
/// tiering to be fast: eight whole chunks at a time in 256-bit vectors where the machine has them (about 6 ms of CPU
/// for 10 MB in a fresh process), one chunk at a time in scalar code otherwise and for the input's tail. The tests
/// compare it with the package (and the specification's digests) over every length around the block, chunk and
/// tree boundaries, in one call and in pieces.
/// </remarks>
public sealed class Blake3Hasher
{
    public const int OutputLength = 32;
    private const int BlockLength = 64;
    private const int ChunkLength = 1024;
    private const uint ChunkStart = 1, ChunkEnd = 2, Parent = 4, Root = 8;

    private static readonly uint[] Iv =
        [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19];

    // The chaining values of completed subtrees, one per set bit of the number of chunks finished so far (at most
    // 54 for 2^64 bytes), and the chunk being filled: its chaining value, its unfinished block and how far it got.
    private readonly uint[] _stack = new uint[54 * 8];
    private int _stackDepth;
    private readonly uint[] _cv = new uint[8];
    private readonly byte[] _block = new byte[BlockLength];
    private int _blockLength;
    private int _blocksCompressed;
    private ulong _chunkCounter;

    public Blake3Hasher() => Iv.CopyTo(_cv, 0);

    /// <summary>The BLAKE3 digest (32 bytes) of <paramref name="data"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var hasher = new Blake3Hasher();
        hasher.Update(data);
        var digest = new byte[OutputLength];
        hasher.Finalize(digest);
        return digest;
    }

    public void Update(ReadOnlySpan<byte> input)
    {
        while (input.Length > 0)
        {
            // The chunk in hand is full and more input follows, so it is not the last one: finish it into the tree.
            if (ChunkBytes == ChunkLength)
            {
                Span<uint> last = stackalloc uint[8];
                Compress(_cv, _block, _chunkCounter, (uint)_blockLength, StartFlag | ChunkEnd, last);
                PushChunk(last);
                ResetChunk();
            }

            // Whole chunks straight from the input, when one starts here and more input follows it.
            if (ChunkBytes == 0)
            {
                Span<uint> cv = stackalloc uint[8];
                if (Vector256.IsHardwareAccelerated && input.Length > 8 * ChunkLength)
                {
                    Span<uint> cvs = stackalloc uint[64];
                    while (input.Length > 8 * ChunkLength)
                    {
                        CompressChunks8(input, _chunkCounter, cvs);
                        for (var c = 0; c < 8; c++)
                        {
                            PushChunk(cvs.Slice(c * 8, 8));
                            _chunkCounter++;
                        }
                        input = input[(8 * ChunkLength)..];
                    }
                }
                while (input.Length > ChunkLength)
                {
                    Iv.CopyTo(cv);
                    var chunk = input[..ChunkLength];
                    for (var b = 0; b < ChunkLength / BlockLength; b++)
                    {
                        var flags = (b == 0 ? ChunkStart : 0) | (b == ChunkLength / BlockLength - 1 ? ChunkEnd : 0);
                        Compress(cv, chunk.Slice(b * BlockLength, BlockLength), _chunkCounter, BlockLength, flags, cv);
                    }
                    PushChunk(cv);
                    _chunkCounter++;
                    input = input[ChunkLength..];
                }
            }

            // The rest of the chunk in hand, block by block; a full block is compressed only when more input follows.
            while (input.Length > 0 && ChunkBytes < ChunkLength)
            {
                if (_blockLength == BlockLength)
                {
                    Compress(_cv, _block, _chunkCounter, BlockLength, StartFlag, _cv);
                    _blocksCompressed++;
                    _blockLength = 0;
                }
                var take = Math.Min(BlockLength - _blockLength, input.Length);
                input[..take].CopyTo(_block.AsSpan(_blockLength));
                _blockLength += take;
                input = input[take..];
            }
        }
    }

    /// <summary>Writes the 32-byte digest of everything given to <see cref="Update"/>.</summary>
    public void Finalize(Span<byte> digest)
    {
        if (digest.Length < OutputLength) throw new ArgumentException($"the digest needs {OutputLength} bytes", nameof(digest));
        Span<byte> block = stackalloc byte[BlockLength];
        Span<uint> cv = stackalloc uint[8];
        Span<uint> output = stackalloc uint[16];

        // The last node: the chunk in hand, with its last block; then, from the top of the stack down, a parent of
        // each completed subtree and the node below it. The last node compressed carries the ROOT flag.
        _cv.CopyTo(cv);
        _block.AsSpan(0, _blockLength).CopyTo(block);
        block[_blockLength..].Clear();
        var counter = _chunkCounter;
        var blockLength = (uint)_blockLength;
        var flags = StartFlag | ChunkEnd;
        for (var i = _stackDepth - 1; i >= 0; i--)
        {
            CompressFull(cv, block, counter, blockLength, flags, output);
            // The node just made is the right child of a parent whose left child is the subtree on the stack.
            ParentBlock(_stack.AsSpan(i * 8, 8), output[..8], block);
            Iv.CopyTo(cv);
            counter = 0;
            blockLength = BlockLength;
            flags = Parent;
        }
        CompressFull(cv, block, counter, blockLength, flags | Root, output);
        for (var w = 0; w < 8; w++) BinaryPrimitives.WriteUInt32LittleEndian(digest[(w * 4)..], output[w]);
    }

    private int ChunkBytes => _blocksCompressed * BlockLength + _blockLength;

    private uint StartFlag => _blocksCompressed == 0 ? ChunkStart : 0;

    private void ResetChunk()
    {
        Iv.CopyTo(_cv, 0);
        _blockLength = 0;
        _blocksCompressed = 0;
        _chunkCounter++;
    }

    /// <summary>
    /// Adds a finished chunk's chaining value to the tree: after chunk number n (counting from 1), as many subtrees
    /// merge as n has trailing zero bits. The last chunk is never pushed, so no node is merged before it is known
    /// whether it is the root.
    /// </summary>
    private void PushChunk(ReadOnlySpan<uint> chunkCv)
    {
        Span<uint> cv = stackalloc uint[8];
        chunkCv.CopyTo(cv);
        Span<byte> block = stackalloc byte[BlockLength];
        for (var total = _chunkCounter + 1; (total & 1) == 0; total >>= 1)
        {
            _stackDepth--;
            ParentBlock(_stack.AsSpan(_stackDepth * 8, 8), cv, block);
            Compress(Iv, block, 0, BlockLength, Parent, cv);
        }
        cv.CopyTo(_stack.AsSpan(_stackDepth * 8));
        _stackDepth++;
    }

    /// <summary>A parent node's block: the left child's chaining value, then the right child's, as little-endian words.</summary>
    private static void ParentBlock(ReadOnlySpan<uint> left, ReadOnlySpan<uint> right, Span<byte> block)
    {
        for (var w = 0; w < 8; w++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(block[(w * 4)..], left[w]);
            BinaryPrimitives.WriteUInt32LittleEndian(block[(32 + w * 4)..], right[w]);
        }
    }

    /// <summary>The compression function, keeping the first 8 words of the output (a chaining value).</summary>
    private static void Compress(ReadOnlySpan<uint> cv, ReadOnlySpan<byte> block, ulong counter, uint blockLength, uint flags, Span<uint> result)
    {
        Span<uint> output = stackalloc uint[16];
        CompressFull(cv, block, counter, blockLength, flags, output);
        output[..8].CopyTo(result);
    }

    /// <summary>
    /// The compression function: 7 rounds over the 16-word state (the chaining value, 4 words of the IV, the block
    /// counter, the block's length and the flags), the message words permuted between rounds; all 16 output words.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CompressFull(ReadOnlySpan<uint> cv, ReadOnlySpan<byte> block, ulong counter, uint blockLength, uint flags, Span<uint> output)
    {
        Span<uint> m = stackalloc uint[16];
        for (var i = 0; i < 16; i++) m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        uint v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
        uint v8 = 0x6A09E667, v9 = 0xBB67AE85, v10 = 0x3C6EF372, v11 = 0xA54FF53A;
        uint v12 = (uint)counter, v13 = (uint)(counter >> 32), v14 = blockLength, v15 = flags;
        var schedule = Schedule;
        for (var r = 0; r < 7; r++)
        {
            var s = schedule.Slice(r * 16, 16);
            // Columns.
            v0 += v4 + m[s[0]]; v12 = uint.RotateRight(v12 ^ v0, 16); v8 += v12; v4 = uint.RotateRight(v4 ^ v8, 12);
            v0 += v4 + m[s[1]]; v12 = uint.RotateRight(v12 ^ v0, 8); v8 += v12; v4 = uint.RotateRight(v4 ^ v8, 7);
            v1 += v5 + m[s[2]]; v13 = uint.RotateRight(v13 ^ v1, 16); v9 += v13; v5 = uint.RotateRight(v5 ^ v9, 12);
            v1 += v5 + m[s[3]]; v13 = uint.RotateRight(v13 ^ v1, 8); v9 += v13; v5 = uint.RotateRight(v5 ^ v9, 7);
            v2 += v6 + m[s[4]]; v14 = uint.RotateRight(v14 ^ v2, 16); v10 += v14; v6 = uint.RotateRight(v6 ^ v10, 12);
            v2 += v6 + m[s[5]]; v14 = uint.RotateRight(v14 ^ v2, 8); v10 += v14; v6 = uint.RotateRight(v6 ^ v10, 7);
            v3 += v7 + m[s[6]]; v15 = uint.RotateRight(v15 ^ v3, 16); v11 += v15; v7 = uint.RotateRight(v7 ^ v11, 12);
            v3 += v7 + m[s[7]]; v15 = uint.RotateRight(v15 ^ v3, 8); v11 += v15; v7 = uint.RotateRight(v7 ^ v11, 7);
            // Diagonals.
            v0 += v5 + m[s[8]]; v15 = uint.RotateRight(v15 ^ v0, 16); v10 += v15; v5 = uint.RotateRight(v5 ^ v10, 12);
            v0 += v5 + m[s[9]]; v15 = uint.RotateRight(v15 ^ v0, 8); v10 += v15; v5 = uint.RotateRight(v5 ^ v10, 7);
            v1 += v6 + m[s[10]]; v12 = uint.RotateRight(v12 ^ v1, 16); v11 += v12; v6 = uint.RotateRight(v6 ^ v11, 12);
            v1 += v6 + m[s[11]]; v12 = uint.RotateRight(v12 ^ v1, 8); v11 += v12; v6 = uint.RotateRight(v6 ^ v11, 7);
            v2 += v7 + m[s[12]]; v13 = uint.RotateRight(v13 ^ v2, 16); v8 += v13; v7 = uint.RotateRight(v7 ^ v8, 12);
            v2 += v7 + m[s[13]]; v13 = uint.RotateRight(v13 ^ v2, 8); v8 += v13; v7 = uint.RotateRight(v7 ^ v8, 7);
            v3 += v4 + m[s[14]]; v14 = uint.RotateRight(v14 ^ v3, 16); v9 += v14; v4 = uint.RotateRight(v4 ^ v9, 12);
            v3 += v4 + m[s[15]]; v14 = uint.RotateRight(v14 ^ v3, 8); v9 += v14; v4 = uint.RotateRight(v4 ^ v9, 7);
        }
        output[0] = v0 ^ v8; output[1] = v1 ^ v9; output[2] = v2 ^ v10; output[3] = v3 ^ v11;
        output[4] = v4 ^ v12; output[5] = v5 ^ v13; output[6] = v6 ^ v14; output[7] = v7 ^ v15;
        output[8] = v8 ^ cv[0]; output[9] = v9 ^ cv[1]; output[10] = v10 ^ cv[2]; output[11] = v11 ^ cv[3];
        output[12] = v12 ^ cv[4]; output[13] = v13 ^ cv[5]; output[14] = v14 ^ cv[6]; output[15] = v15 ^ cv[7];
    }

    /// <summary>
    /// Eight whole chunks (8 KiB, none of them the input's last) at once: lane c of every vector is chunk c's state,
    /// so the rounds are the scalar compression's, one vector instruction for eight chunks. Writes chunk c's chaining
    /// value to <paramref name="cvs"/>[c * 8 .. c * 8 + 8].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CompressChunks8(ReadOnlySpan<byte> input, ulong counter, Span<uint> cvs)
    {
        ref var data = ref MemoryMarshal.GetReference(input[..(8 * ChunkLength)]);
        var lo = Vector256.Create((uint)counter, (uint)(counter + 1), (uint)(counter + 2), (uint)(counter + 3),
            (uint)(counter + 4), (uint)(counter + 5), (uint)(counter + 6), (uint)(counter + 7));
        var hi = Vector256.Create((uint)(counter >> 32), (uint)((counter + 1) >> 32), (uint)((counter + 2) >> 32), (uint)((counter + 3) >> 32),
            (uint)((counter + 4) >> 32), (uint)((counter + 5) >> 32), (uint)((counter + 6) >> 32), (uint)((counter + 7) >> 32));
        Vector256<uint> h0 = Vector256.Create(0x6A09E667u), h1 = Vector256.Create(0xBB67AE85u), h2 = Vector256.Create(0x3C6EF372u), h3 = Vector256.Create(0xA54FF53Au);
        Vector256<uint> h4 = Vector256.Create(0x510E527Fu), h5 = Vector256.Create(0x9B05688Cu), h6 = Vector256.Create(0x1F83D9ABu), h7 = Vector256.Create(0x5BE0CD19u);
        Span<Vector256<uint>> m = stackalloc Vector256<uint>[16];
        var schedule = Schedule;
        for (var b = 0; b < ChunkLength / BlockLength; b++)
        {
            for (var j = 0; j < 16; j++)
            {
                var at = b * BlockLength + j * 4;
                m[j] = Vector256.Create(Word(ref data, at), Word(ref data, ChunkLength + at), Word(ref data, 2 * ChunkLength + at),
                    Word(ref data, 3 * ChunkLength + at), Word(ref data, 4 * ChunkLength + at), Word(ref data, 5 * ChunkLength + at),
                    Word(ref data, 6 * ChunkLength + at), Word(ref data, 7 * ChunkLength + at));
            }
            var flags = (b == 0 ? ChunkStart : 0) | (b == ChunkLength / BlockLength - 1 ? ChunkEnd : 0);
            Vector256<uint> v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7;
            Vector256<uint> v8 = Vector256.Create(0x6A09E667u), v9 = Vector256.Create(0xBB67AE85u), v10 = Vector256.Create(0x3C6EF372u), v11 = Vector256.Create(0xA54FF53Au);
            Vector256<uint> v12 = lo, v13 = hi, v14 = Vector256.Create((uint)BlockLength), v15 = Vector256.Create(flags);
            for (var r = 0; r < 7; r++)
            {
                var s = schedule.Slice(r * 16, 16);
                // Columns.
                v0 += v4 + m[s[0]]; v12 = Rotate(v12 ^ v0, 16); v8 += v12; v4 = Rotate(v4 ^ v8, 12);
                v0 += v4 + m[s[1]]; v12 = Rotate(v12 ^ v0, 8); v8 += v12; v4 = Rotate(v4 ^ v8, 7);
                v1 += v5 + m[s[2]]; v13 = Rotate(v13 ^ v1, 16); v9 += v13; v5 = Rotate(v5 ^ v9, 12);
                v1 += v5 + m[s[3]]; v13 = Rotate(v13 ^ v1, 8); v9 += v13; v5 = Rotate(v5 ^ v9, 7);
                v2 += v6 + m[s[4]]; v14 = Rotate(v14 ^ v2, 16); v10 += v14; v6 = Rotate(v6 ^ v10, 12);
                v2 += v6 + m[s[5]]; v14 = Rotate(v14 ^ v2, 8); v10 += v14; v6 = Rotate(v6 ^ v10, 7);
                v3 += v7 + m[s[6]]; v15 = Rotate(v15 ^ v3, 16); v11 += v15; v7 = Rotate(v7 ^ v11, 12);
                v3 += v7 + m[s[7]]; v15 = Rotate(v15 ^ v3, 8); v11 += v15; v7 = Rotate(v7 ^ v11, 7);
                // Diagonals.
                v0 += v5 + m[s[8]]; v15 = Rotate(v15 ^ v0, 16); v10 += v15; v5 = Rotate(v5 ^ v10, 12);
                v0 += v5 + m[s[9]]; v15 = Rotate(v15 ^ v0, 8); v10 += v15; v5 = Rotate(v5 ^ v10, 7);
                v1 += v6 + m[s[10]]; v12 = Rotate(v12 ^ v1, 16); v11 += v12; v6 = Rotate(v6 ^ v11, 12);
                v1 += v6 + m[s[11]]; v12 = Rotate(v12 ^ v1, 8); v11 += v12; v6 = Rotate(v6 ^ v11, 7);
                v2 += v7 + m[s[12]]; v13 = Rotate(v13 ^ v2, 16); v8 += v13; v7 = Rotate(v7 ^ v8, 12);
                v2 += v7 + m[s[13]]; v13 = Rotate(v13 ^ v2, 8); v8 += v13; v7 = Rotate(v7 ^ v8, 7);
                v3 += v4 + m[s[14]]; v14 = Rotate(v14 ^ v3, 16); v9 += v14; v4 = Rotate(v4 ^ v9, 12);
                v3 += v4 + m[s[15]]; v14 = Rotate(v14 ^ v3, 8); v9 += v14; v4 = Rotate(v4 ^ v9, 7);
            }
            h0 = v0 ^ v8; h1 = v1 ^ v9; h2 = v2 ^ v10; h3 = v3 ^ v11; h4 = v4 ^ v12; h5 = v5 ^ v13; h6 = v6 ^ v14; h7 = v7 ^ v15;
        }
        // Word i of lane c is word i of chunk c's chaining value.
        Span<uint> words = stackalloc uint[64];
        h0.CopyTo(words); h1.CopyTo(words[8..]); h2.CopyTo(words[16..]); h3.CopyTo(words[24..]);
        h4.CopyTo(words[32..]); h5.CopyTo(words[40..]); h6.CopyTo(words[48..]); h7.CopyTo(words[56..]);
        for (var c = 0; c < 8; c++)
            for (var i = 0; i < 8; i++) cvs[c * 8 + i] = words[i * 8 + c];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(ref byte data, int at) => BinaryPrimitives.ReadUInt32LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref data, at), 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotate(Vector256<uint> x, [ConstantExpected] int n) => Vector256.ShiftRightLogical(x, n) | Vector256.ShiftLeft(x, 32 - n);

    /// <summary>
    /// The message word each round takes at each position: round 0 in order, every later round the previous one
    /// permuted by the specification's MSG_PERMUTATION (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8).
    /// </summary>
    private static ReadOnlySpan<byte> Schedule =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8,
        3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1,
        10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6,
        12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4,
        9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7,
        11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13,
    ];
}
