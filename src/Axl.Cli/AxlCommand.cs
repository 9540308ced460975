namespace Axl.Cli;

public static class AxlCommand
{
    public static int Run(string[] args)
    {
        Console.WriteLine(AxlInfo.Version);
        return 0;
    }
}
