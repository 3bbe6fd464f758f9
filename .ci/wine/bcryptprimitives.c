/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Rust programs
 * under Wine 8.0 (Debian bookworm), which lacks that DLL.
 *
 * Rust's standard library (1.78 and later) fills its random keys (HashMap
 * seeds and the like) from bcryptprimitives!ProcessPrng, imported when the
 * program starts: without the DLL, no Rust program starts. ProcessPrng
 * cannot fail; this one forwards to advapi32!SystemFunction036
 * (RtlGenRandom), which Wine has, in chunks of at most ULONG_MAX bytes.
 *
 * Build (see .ci/windows):
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *       bcryptprimitives.c -ladvapi32
 * and put the DLL next to the .exe files (Windows looks there first).
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0xFFFFFFFFu ? 0xFFFFFFFFu : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
