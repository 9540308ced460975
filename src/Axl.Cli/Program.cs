return Axl.Cli.AxlCommand.Run(args);
