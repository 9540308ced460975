using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Language;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>How <see cref="StaticWorkflowFile.TryRead"/> parses a file.</summary>
public enum FileRead
{
    /// <summary>In pieces when the file has many <c>Step</c> lines (<see cref="StaticWorkflowFile.PiecesFrom"/>), else whole.</summary>
    Auto,
    /// <summary>Whole: the bodies' trees hang from the file's tree at once (what a step host binds).</summary>
    Whole,
    /// <summary>In pieces whatever the file's size, when it can be (tests of the pieces against the whole).</summary>
    Pieces,
}

/// <summary>
/// The read of a large workflow file in pieces. PowerShell's parser builds the whole file's tree in one thread, and the
/// tree stays alive to the end of the parse, so every collection on the way copies all of it again: for a 10,000-step
/// file about 400 ms, half of it in the collector. Here each line that starts with <c>Step</c> starts a piece that runs
/// to the next such line; the pieces are parsed on their own, on every core, and each is read into its step at once, so
/// its tree dies young. What is left, the file with those pieces blanked out (newlines kept, so every offset and line is
/// the file's), is the skeleton, parsed whole and read as before; each run of blank pieces is read in its place, before
/// the statement it ends at.
/// <para>
/// It gives the workflows a whole parse gives, or nothing (the caller then parses the file whole). A piece is kept only
/// when it parses without errors into one <c>Step</c> command and nothing after it but blank lines and line comments, and
/// the line before it does not end in a line continuation. The skeleton must parse without errors and have nothing but
/// newlines in each blank run (not inside a string, here-string or comment), and each run must end where a statement of
/// a workflow's block starts, after the statement before it ends. Then the parser, reaching each run at the start of a
/// statement, reads in the whole file just the statement it read in the piece. Anything not static (as the whole read
/// decides: a function named like a keyword, a step option that is not a literal, a definition the builder refuses)
/// also gives nothing, so the whole read gives the reason with the file's own lines.
/// </para>
/// </summary>
public static partial class StaticWorkflowFile
{
    /// <summary>How many <c>Step</c> lines a file needs before <see cref="FileRead.Auto"/> reads it in pieces (below, one parse is as fast).</summary>
    public const int PiecesFrom = 200;

    /// <summary>The environment variable that overrides <see cref="FileRead.Auto"/>: whole, pieces (or auto).</summary>
    public const string FileReadVariable = "AXL_FILE_READ";

    /// <summary><paramref name="read"/>, or what <see cref="FileReadVariable"/> asks for when it is <see cref="FileRead.Auto"/>.</summary>
    internal static FileRead FromEnvironment(FileRead read) =>
        read == FileRead.Auto && Enum.TryParse<FileRead>(Environment.GetEnvironmentVariable(FileReadVariable), ignoreCase: true, out var r) && Enum.IsDefined(r) ? r : read;

    /// <summary>How many steps the last <see cref="TryRead"/> on this thread read from pieces parsed on their own (tests, traces).</summary>
    [ThreadStatic] private static int t_lastReadInPieces;

    /// <inheritdoc cref="t_lastReadInPieces"/>
    public static int LastReadInPieces { get => t_lastReadInPieces; private set => t_lastReadInPieces = value; }

    /// <summary>The file's workflows read in pieces (see the class notes), or null to parse it whole.</summary>
    private static IReadOnlyList<AxlWorkflow>? TryReadInPieces(TokenlessParse t, string full, string text, string? name, Func<string, DslKeyword> resolve, int from)
    {
        var lines = new StepLines(text);
        if (lines.Count < Math.Max(2, from)) return null;
        Axl.Compilers.CompileTrace.Mark($"read: {lines.Count} Step lines found");

        var tree = new WholeFileTree(() => ParseScoped(t, full, text, null, out _));
        Piece?[]? pieces;
        List<string> functions;
        try { pieces = ParsePieces(t, full, text, lines, resolve, tree, out functions); }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            throw;
        }
        Axl.Compilers.CompileTrace.Mark("read: pieces parsed and read");
        if (pieces is null) return null;
        if (functions.Any(f => resolve(f) != DslKeyword.Other)) return null; // the whole read names it

        var skeleton = Skeleton(text, pieces);
        var tokens = new List<Token>();
        ScriptBlockAst ast;
        try
        {
            ast = ParseScoped(t, full, skeleton, tokens, out var errors);
            if (errors.Length > 0) return null;
        }
        catch (ParseException) { return null; }
        if (!OnlyNewlinesIn(tokens, pieces)) return null;
        if (Check(ast, resolve) is not null) return null;
        Axl.Compilers.CompileTrace.Mark("read: skeleton parsed and checked");

        var filePieces = new FilePieces(tree, pieces, lines.Words);
        var read = ReadWorkflows(ast, name, resolve, filePieces, out _);
        Axl.Compilers.CompileTrace.Mark("read: workflows built");
        if (read is null || !filePieces.AllTaken) return null;
        LastReadInPieces = pieces.Count(p => p is not null);
        return read;
    }

    /// <summary>
    /// The lines that start with the word <c>Step</c>: where each starts, where its word starts, and its line number
    /// (lists of numbers, not of a struct: generic code over a value type is compiled at run time, not ahead).
    /// </summary>
    internal sealed class StepLines
    {
        public readonly List<int> Starts = new(), Words = new(), Lines = new();
        public int Count => Starts.Count;

        /// <summary>
        /// The lines of <paramref name="text"/> whose first word is <c>Step</c> (any case, then a space or tab). Each starts
        /// a piece that runs to the next; a line that follows a line continuation (a line ending in a backtick) starts none.
        /// </summary>
        public StepLines(string text)
        {
            var line = 1;
            for (var start = 0; start < text.Length;)
            {
                var word = start;
                while (word < text.Length && (text[word] == ' ' || text[word] == '\t')) word++;
                if (word + 5 <= text.Length && string.Compare(text, word, "Step", 0, 4, StringComparison.OrdinalIgnoreCase) == 0
                    && (text[word + 4] == ' ' || text[word + 4] == '\t') && !ContinuesLine(text, start))
                {
                    Starts.Add(start);
                    Words.Add(word);
                    Lines.Add(line);
                }
                var next = text.IndexOf('\n', word);
                if (next < 0) break;
                start = next + 1;
                line++;
            }
        }
    }

    /// <summary>Whether the line before the one at <paramref name="lineStart"/> ends in a backtick (a line continuation).</summary>
    private static bool ContinuesLine(string text, int lineStart)
    {
        var end = lineStart - 1; // the newline before the line
        if (end > 0 && text[end - 1] == '\r') end--;
        return end > 0 && text[end - 1] == '`';
    }

    /// <summary>One piece read on its own: the file's text from <see cref="Start"/> to <see cref="End"/>, and its step.</summary>
    internal sealed record Piece(int Start, int End, StepDefinition Step);

    /// <summary>
    /// Each piece between two <c>Step</c> lines parsed and read on its own, on every core; null at a piece that is not a
    /// lone Step command (it stays in the skeleton). Null in all when a piece's step is not static.
    /// </summary>
    private static Piece?[]? ParsePieces(TokenlessParse t, string full, string text, StepLines lines, Func<string, DslKeyword> resolve,
        WholeFileTree tree, out List<string> functions)
    {
        var pieces = new Piece?[lines.Count - 1];
        var names = new ConcurrentBag<string>();
        var notStatic = 0;
        // Blocks of pieces taken in turn by every thread (a busy core takes fewer), on plain tasks: Parallel.ForEach's
        // generic machinery would be compiled at run time, at the start of every command.
        var block = Math.Clamp(pieces.Length / (8 * Environment.ProcessorCount), Group, 8 * Group);
        var taken = new int[1];
        void Work()
        {
            var keywords = new Dictionary<string, DslKeyword>(StringComparer.OrdinalIgnoreCase);
            DynamicKeyword.Push();
            try
            {
                for (var first = Interlocked.Add(ref taken[0], block) - block; first < pieces.Length; first = Interlocked.Add(ref taken[0], block) - block)
                {
                    var end = Math.Min(first + block, pieces.Length);
                    for (var g = first; g < end; g += Group)
                    {
                        if (Volatile.Read(ref notStatic) != 0) return;
                        // A group of pieces parsed as one text (one parse's fixed cost for many steps); where that is not one
                        // Step command per piece, each piece on its own (a piece that is not one stays in the skeleton).
                        var count = Math.Min(Group, end - g);
                        var isStatic = true;
                        if (!ParseRun(t, full, text, lines, g, count, resolve, keywords, tree, names, pieces, ref isStatic) && count > 1)
                            for (var i = g; i < g + count && isStatic; i++)
                                ParseRun(t, full, text, lines, i, 1, resolve, keywords, tree, names, pieces, ref isStatic);
                        if (!isStatic) Interlocked.Exchange(ref notStatic, 1);
                    }
                }
            }
            finally { DynamicKeyword.Pop(); }
        }
        var others = new Task[Math.Min(Environment.ProcessorCount, pieces.Length / block + 1) - 1];
        for (var i = 0; i < others.Length; i++) others[i] = Task.Run(Work);
        Work();
        Task.WaitAll(others);
        functions = names.ToList();
        return notStatic == 0 ? pieces : null;
    }

    /// <summary>How many pieces are parsed as one text, at most.</summary>
    private const int Group = 32;

    /// <summary>
    /// Pieces <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1 parsed as one text:
    /// when that is one Step command per piece, each starting at its line's word with nothing after it but blank lines
    /// and line comments, their steps go into <paramref name="pieces"/> and it returns true; otherwise false, and
    /// nothing is kept. <paramref name="isStatic"/> turns false when a step is not static (the file is then parsed whole).
    /// </summary>
    private static bool ParseRun(TokenlessParse t, string full, string text, StepLines lines, int first, int count,
        Func<string, DslKeyword> resolve, Dictionary<string, DslKeyword> keywords, WholeFileTree tree, ConcurrentBag<string> functions,
        Piece?[] pieces, ref bool isStatic)
    {
        var (from, to) = (lines.Starts[first], lines.Starts[first + count]);
        var run = text.Substring(from, to - from);
        ScriptBlockAst ast;
        try
        {
            ast = ParseText(t, full, run, null, out var errors);
            if (errors.Length > 0) return false;
        }
        catch (ParseException) { return false; }
        if (ast.ScriptRequirements is not null || ast.UsingStatements is { Count: > 0 } || ast.ParamBlock is not null || ast.BeginBlock is not null
            || ast.ProcessBlock is not null || ast.DynamicParamBlock is not null || ast.EndBlock is not { Traps: null } end || end.Statements.Count != count)
            return false;
        var statements = end.Statements;
        for (var j = 0; j < count; j++)
        {
            var next = lines.Starts[first + j + 1] - from;
            if (statements[j].Extent.StartOffset != lines.Words[first + j] - from || !OnlyBlank(run, statements[j].Extent.EndOffset, next))
                return false;
        }
        // A function is defined only by these keywords: a text without them is not walked again to find one.
        if (run.Contains("function", StringComparison.OrdinalIgnoreCase) || run.Contains("filter", StringComparison.OrdinalIgnoreCase)
            || run.Contains("workflow", StringComparison.OrdinalIgnoreCase))
            foreach (FunctionDefinitionAst f in ast.FindAll(a => a is FunctionDefinitionAst, searchNestedScriptBlocks: true)) functions.Add(f.Name);
        for (var j = 0; j < count; j++)
        {
            if (StaticWorkflowReader.ReadPieceStep(statements[j], resolve, keywords, from, lines.Lines[first] - 1, tree, out var step) is not null)
            {
                isStatic = false;
                return true;
            }
            pieces[first + j] = new Piece(lines.Starts[first + j], lines.Starts[first + j + 1], step!);
        }
        return true;
    }

    /// <summary>Whether <paramref name="text"/> holds nothing from <paramref name="at"/> to <paramref name="to"/> but spaces, tabs, newlines and line comments.</summary>
    private static bool OnlyBlank(string text, int at, int to)
    {
        for (var i = at; i < to; i++)
        {
            var c = text[i];
            if (c is ' ' or '\t' or '\r' or '\n') continue;
            if (c != '#') return false;
            var end = text.IndexOf('\n', i, to - i);
            if (end < 0) return true;
            i = end;
        }
        return true;
    }

    /// <summary>The file with every piece's characters made spaces, its newlines kept (every offset and line stays the file's).</summary>
    private static string Skeleton(string text, Piece?[] pieces) => string.Create(text.Length, (text, pieces), static (span, state) =>
    {
        state.text.AsSpan().CopyTo(span);
        foreach (var p in state.pieces)
        {
            if (p is null) continue;
            var blank = span[p.Start..p.End];
            for (var i = 0; i < blank.Length; i++)
                if (blank[i] is not ('\n' or '\r')) blank[i] = ' ';
        }
    });

    /// <summary>
    /// Whether every token of the skeleton that meets a blank piece is a newline (none is a string or comment spanning
    /// it). A blank inside a string or comment should already fail the run's place (the statement after it is in the
    /// string too, or the string is cut open); this makes it certain without that argument, for a few microseconds.
    /// </summary>
    private static bool OnlyNewlinesIn(List<Token> tokens, Piece?[] pieces)
    {
        var blanks = new List<Piece>(pieces.Length);
        foreach (var p in pieces) if (p is not null) blanks.Add(p);
        if (blanks.Count == 0) return true;
        var starts = new int[blanks.Count];
        for (var i = 0; i < starts.Length; i++) starts[i] = blanks[i].Start;
        foreach (var token in tokens)
        {
            if (token.Kind is TokenKind.NewLine or TokenKind.EndOfInput) continue;
            var (from, to) = (token.Extent.StartOffset, token.Extent.EndOffset);
            // The last blank that starts before the token ends is the only one that can meet it (blanks do not overlap).
            var i = Array.BinarySearch(starts, to);
            i = i >= 0 ? i - 1 : ~i - 1;
            if (i >= 0 && blanks[i].End > from && to > blanks[i].Start) return false;
        }
        return true;
    }

    /// <summary>
    /// The pieces of a file read in pieces, by run: a run of consecutive pieces is taken by the statement of a workflow's
    /// block that starts where the run ends (the <c>Step</c> word of the line after it), when the statement before it
    /// ends before the run starts.
    /// </summary>
    internal sealed class FilePieces
    {
        private sealed record Run(int Start, List<StepDefinition> Steps);
        private readonly Dictionary<int, Run> _runsByNext = new();
        private bool _misplaced;

        /// <param name="words">Where the word <c>Step</c> of each Step line is (one more than the pieces: the last line starts none).</param>
        public FilePieces(WholeFileTree tree, Piece?[] pieces, List<int> words)
        {
            Tree = tree;
            for (var i = 0; i < pieces.Length;)
            {
                if (pieces[i] is null) { i++; continue; }
                var start = pieces[i]!.Start;
                var steps = new List<StepDefinition>();
                for (; i < pieces.Length && pieces[i] is { } p; i++) steps.Add(p.Step);
                // The run ends where Step line i starts: its statement (in the skeleton) starts at that line's word.
                _runsByNext[words[i]] = new Run(start, steps);
            }
        }

        /// <summary>The whole file's tree, parsed when a step's body tree is asked for.</summary>
        public WholeFileTree Tree { get; }

        /// <summary>The steps of the run that ends where a statement starts at <paramref name="statementStart"/>, or null.</summary>
        public IReadOnlyList<StepDefinition>? RunBefore(int statementStart, int previousEnd)
        {
            if (!_runsByNext.TryGetValue(statementStart, out var run)) return null;
            if (run.Start < previousEnd) { _misplaced = true; return null; }
            _runsByNext.Remove(statementStart);
            return run.Steps;
        }

        /// <summary>Whether every run was taken, each in its place.</summary>
        public bool AllTaken => !_misplaced && _runsByNext.Count == 0;
    }
}

/// <summary>
/// The whole tree of a file read in pieces, parsed the first time a step's body tree is asked for (a command that only
/// reads the workflow never asks), with each step body's tree by the offset of its opening brace.
/// </summary>
internal sealed class WholeFileTree
{
    private readonly Lazy<Dictionary<int, ScriptBlockAst>> _bodies;

    public WholeFileTree(Func<ScriptBlockAst> parse) =>
        _bodies = new(() => parse().FindAll(a => a is ScriptBlockExpressionAst, searchNestedScriptBlocks: true)
            .Cast<ScriptBlockExpressionAst>().ToDictionary(e => e.ScriptBlock.Extent.StartOffset, e => e.ScriptBlock));

    /// <summary>The tree of the script block literal whose opening brace is at <paramref name="offset"/> in the file.</summary>
    public ScriptBlockAst BodyAt(int offset) =>
        _bodies.Value.TryGetValue(offset, out var body) ? body
            : throw new InvalidOperationException($"The file's tree has no script block at offset {offset}; it changed after it was read.");
}
