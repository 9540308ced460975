Axl.Cli.JitProfile.Start(args);
return Axl.Cli.AxlCommand.Run(args);
