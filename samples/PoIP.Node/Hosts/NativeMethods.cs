using System.Runtime.InteropServices;

namespace PoIP.Node.Hosts;

/// <summary>The few libc calls the host lab needs (Linux only): TUN devices, network namespaces, poll.</summary>
internal static partial class NativeMethods
{
    public const int ReadWrite = 0x2;
    public const int NonBlocking = 0x800;
    public const int CloseOnExec = 0x80000;
    public const int NewNetworkNamespace = 0x40000000;
    public const short PollIn = 0x1;
    public const ulong TunSetInterface = 0x400454ca;
    public const short TunMode = 0x0001;
    public const short NoPacketInfo = 0x1000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, ref InterfaceRequest request2);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNamespace(int fd, int type);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref PollDescriptor descriptor, ulong count, int timeoutMilliseconds);

    /// <summary><c>struct ifreq</c> (40 bytes on x86-64 and arm64): the name, then the flags of the union.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    public struct InterfaceRequest
    {
        [System.Runtime.CompilerServices.InlineArray(16)]
        public struct Name
        {
            private byte _first;
        }

        public Name InterfaceName;
        public short Flags;
    }

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }
}
