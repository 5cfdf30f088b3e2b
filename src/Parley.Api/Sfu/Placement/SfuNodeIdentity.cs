using System.Net;
using System.Security.Cryptography;
using Parley.Core.Configuration;
using Parley.Sfu;

namespace Parley.Api.Sfu.Placement;

/// <summary>Who this SFU node is in the registry: its id and the URL api processes reach its signaling at.</summary>
public sealed class SfuNodeIdentity
{
    public SfuNodeIdentity(SfuNodeOptions node, ServerOptions server)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(server);
        // A fresh id per start: a restarted process must not look like the node its old meetings were placed on
        // (those meetings' rooms died with it), and two processes on one host must not share an id.
        NodeId = node.NodeId ?? $"{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        InternalUrl = node.EffectiveInternalUrl(server.Host, server.Port, () => AnnouncedAddressResolver.Default(IPAddress.Any))
            .ToString().TrimEnd('/');
    }

    public string NodeId { get; }

    public string InternalUrl { get; }
}
