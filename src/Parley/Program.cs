using Parley.Cli;

return await ParleyCommandLine.InvokeAsync(args);
