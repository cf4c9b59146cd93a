using System.Runtime.InteropServices;
using System.Text;

namespace PoIP.Node.Hosts;

/// <summary>
/// A TUN device (layer 3: whole IP packets, no packet-info header) created inside a named network
/// namespace. The kernel of that namespace routes the host's traffic to it; this process reads and
/// writes the packets. The device disappears when its file descriptor closes (also when this process
/// dies), so a killed run leaves no interface behind.
/// </summary>
internal sealed class TunDevice : IDisposable
{
    private int _fd;

    private TunDevice(int fd, string name)
    {
        _fd = fd;
        Name = name;
    }

    /// <summary>The interface name inside the namespace.</summary>
    public string Name { get; }

    /// <summary>
    /// Creates the device inside <paramref name="namespaceName"/> (<c>/run/netns/NAME</c>): a dedicated
    /// thread enters the namespace, opens <c>/dev/net/tun</c>, and the thread ends (so no other code
    /// ever runs in that namespace by accident).
    /// </summary>
    /// <exception cref="IOException">The namespace or the device could not be opened.</exception>
    public static TunDevice Create(string namespaceName, string name)
    {
        if (Encoding.ASCII.GetByteCount(name) > 15)
        {
            throw new ArgumentException($"interface name '{name}' is longer than 15 bytes.", nameof(name));
        }

        TunDevice? device = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                device = CreateHere(namespaceName, name);
            }
            catch (IOException ex)
            {
                failure = ex;
            }
        }) { IsBackground = true, Name = "poip-tun-create" };
        thread.Start();
        thread.Join();
        return device ?? throw (failure ?? new IOException("TUN device not created."));
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for a packet and reads it into <paramref name="buffer"/>; 0 when none came.</summary>
    public int Read(byte[] buffer, int timeoutMilliseconds)
    {
        var descriptor = new NativeMethods.PollDescriptor { Fd = _fd, Events = NativeMethods.PollIn };
        int ready = NativeMethods.Poll(ref descriptor, 1, timeoutMilliseconds);
        if (ready <= 0 || (descriptor.ReturnedEvents & NativeMethods.PollIn) == 0)
        {
            return 0;
        }

        nint read = NativeMethods.Read(_fd, ref buffer[0], buffer.Length);
        return read > 0 ? (int)read : 0;
    }

    /// <summary>Hands one IP packet to the namespace's kernel (dropped silently when the device is gone or full).</summary>
    public void Write(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty || _fd < 0)
        {
            return;
        }

        NativeMethods.Write(_fd, ref MemoryMarshal.GetReference(packet), packet.Length);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            NativeMethods.Close(fd);
        }
    }

    private static TunDevice CreateHere(string namespaceName, string name)
    {
        int original = NativeMethods.Open("/proc/thread-self/ns/net", NativeMethods.CloseOnExec);
        int target = NativeMethods.Open("/run/netns/" + namespaceName, NativeMethods.CloseOnExec);
        try
        {
            if (original < 0 || target < 0)
            {
                throw new IOException($"cannot open network namespace '{namespaceName}' (errno {Marshal.GetLastPInvokeError()}).");
            }

            if (NativeMethods.SetNamespace(target, NativeMethods.NewNetworkNamespace) != 0)
            {
                throw new IOException($"cannot enter network namespace '{namespaceName}' (errno {Marshal.GetLastPInvokeError()}).");
            }

            try
            {
                int fd = NativeMethods.Open("/dev/net/tun", NativeMethods.ReadWrite | NativeMethods.NonBlocking | NativeMethods.CloseOnExec);
                if (fd < 0)
                {
                    throw new IOException($"cannot open /dev/net/tun (errno {Marshal.GetLastPInvokeError()}).");
                }

                var request = new NativeMethods.InterfaceRequest { Flags = NativeMethods.TunMode | NativeMethods.NoPacketInfo };
                Encoding.ASCII.GetBytes(name, request.InterfaceName);
                if (NativeMethods.Ioctl(fd, NativeMethods.TunSetInterface, ref request) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    NativeMethods.Close(fd);
                    throw new IOException($"cannot create TUN device '{name}' in '{namespaceName}' (errno {errno}).");
                }

                return new TunDevice(fd, name);
            }
            finally
            {
                NativeMethods.SetNamespace(original, NativeMethods.NewNetworkNamespace);
            }
        }
        finally
        {
            if (original >= 0)
            {
                NativeMethods.Close(original);
            }

            if (target >= 0)
            {
                NativeMethods.Close(target);
            }
        }
    }
}
