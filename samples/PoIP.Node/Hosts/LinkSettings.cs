namespace PoIP.Node.Hosts;

/// <summary>
/// What one host's link does to the packets that cross it (like <c>tc netem</c> on both ends of the
/// link): a packet from host A to host B crosses A's link and B's link, so its one-way delay is
/// <c>A.Delay + B.Delay</c> and its round trip twice that; it is lost with probability
/// <c>1 − (1 − A.Loss)(1 − B.Loss)</c>; a partitioned link drops everything.
/// </summary>
/// <param name="Delay">One-way delay added to each packet crossing the link.</param>
/// <param name="Loss">Probability in [0, 1] that a packet crossing the link is dropped.</param>
/// <param name="Partitioned">True: the host is cut off (every packet to or from it is dropped).</param>
internal sealed record LinkSettings(TimeSpan Delay, double Loss = 0, bool Partitioned = false)
{
    /// <summary>No delay, no loss, connected.</summary>
    public static LinkSettings Clear { get; } = new(TimeSpan.Zero);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative or over-10-second delay, or a loss outside [0, 1].</exception>
    public LinkSettings Validated() =>
        Delay < TimeSpan.Zero || Delay > TimeSpan.FromSeconds(10) ? throw new ArgumentOutOfRangeException(nameof(Delay), Delay, "delay must be 0 to 10 s.")
        : Loss is < 0 or > 1 || double.IsNaN(Loss) ? throw new ArgumentOutOfRangeException(nameof(Loss), Loss, "loss must be in [0, 1].")
        : this;
}
