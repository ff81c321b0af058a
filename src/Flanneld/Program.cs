using System.Runtime.InteropServices;
using Flannel.Core.Config;
using Flanneld;
using Flanneld.Daemon;
using Flanneld.Options;

// flanneld's entry point: flags, then the composition root, then the daemon until SIGTERM/SIGINT.
FlanneldOptions options;
try
{
    var environment = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
    {
        environment[(string)entry.Key] = (string?)entry.Value ?? "";
    }

    options = FlagParser.Parse(args, environment);
}
catch (ConfigException ex)
{
    Console.Error.WriteLine($"flanneld: {ex.Message}");
    Console.Error.WriteLine("Run 'flanneld --help' for the flags.");
    return 2;
}

if (options.Help)
{
    Console.Out.Write(FlagParser.Usage);
    return 0;
}

if (options.Version)
{
    Console.Out.WriteLine(FlanneldVersion.Text);
    return 0;
}

using var stop = new CancellationTokenSource();
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
return await FlanneldHost.RunAsync(options, stop.Token);

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
