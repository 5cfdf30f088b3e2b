using Microsoft.Extensions.Hosting;
using Parley.Sfu;

namespace Parley.Api.Sfu;

/// <summary>
/// The `sfu` role: binds the worker sockets before the host reports started, so /ready (roles started)
/// turns green only once media can flow; closes every room on shutdown.
/// </summary>
internal sealed class SfuHostedService(SfuEngine engine, SfuMetricsExporter metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        engine.Start();
        metrics.Register();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        engine.Dispose();
        return Task.CompletedTask;
    }
}
