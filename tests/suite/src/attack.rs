//! Bad files built the way they were found (issue 18): byte-patched copies
//! of real plugins, and file names a terminal should never see raw.
//!
//! The patches read and write an ELF64 little-endian file (the plugins of
//! x86-64 and AArch64 Linux), through raw offsets, as a hex editor would.

#[cfg(unix)]
use std::{ffi::OsString, path::PathBuf};

/// `PT_LOAD` and `PT_DYNAMIC`, from `<elf.h>`.
const PT_LOAD: u64 = 1;
const PT_DYNAMIC: u64 = 2;
/// Offsets of ELF64 program header fields.
const P_OFFSET: u64 = 8;
const P_VADDR: u64 = 16;
const P_PADDR: u64 = 24;
/// An address no `PT_LOAD` of a plugin this small covers.
const HOLE: u64 = 0x4000_0000;

fn get(bytes: &[u8], at: u64, size: usize) -> u64 {
    let at = at as usize;
    bytes[at..at + size]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 8 | u64::from(b))
}

fn set(bytes: &mut [u8], at: u64, size: usize, value: u64) {
    let at = at as usize;
    bytes[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
}

/// The file offset of program header `i`.
fn phdr(bytes: &[u8], i: u64) -> u64 {
    get(bytes, 32, 8) + 56 * i
}

/// The program headers of type `p_type`, by index.
fn headers(bytes: &[u8], p_type: u64) -> Vec<u64> {
    assert_eq!(
        &bytes[..6],
        b"\x7fELF\x02\x01",
        "an ELF64 little-endian file"
    );
    (0..get(bytes, 56, 2))
        .filter(|&i| get(bytes, phdr(bytes, i), 4) == p_type)
        .collect()
}

/// Attack 1(a): `e_phnum = 0xffff` (PN_XNUM), and the last `PT_LOAD` moved
/// 64 MiB past the end of the file (its offset stays congruent with its
/// address, so glibc maps it, and the first touch is a SIGBUS). The
/// `object` crate takes the real count from section header 0 (0 here) and
/// sees no segment at all.
pub fn pn_xnum_with_a_load_past_the_end(plugin: &[u8]) -> Vec<u8> {
    let mut bytes = plugin.to_vec();
    let last = *headers(&bytes, PT_LOAD).last().expect("a PT_LOAD");
    let at = phdr(&bytes, last) + P_OFFSET;
    let past_the_end = (bytes.len() as u64).next_multiple_of(4096) + (64 << 20);
    let moved = get(&bytes, at, 8) + past_the_end;
    set(&mut bytes, at, 8, moved);
    set(&mut bytes, 56, 2, 0xffff);
    bytes
}

/// Attack 1(b): the `PT_DYNAMIC` header's address (`p_vaddr` and
/// `p_paddr`, 16 bytes) moved outside every `PT_LOAD`.
pub fn dynamic_outside_every_load(plugin: &[u8]) -> Vec<u8> {
    let mut bytes = plugin.to_vec();
    let dynamic = headers(&bytes, PT_DYNAMIC)[0];
    let at = phdr(&bytes, dynamic);
    set(&mut bytes, at + P_VADDR, 8, HOLE);
    set(&mut bytes, at + P_PADDR, 8, HOLE);
    bytes
}

/// File names (before the extension) that must reach a terminal escaped:
/// a line break, an escape sequence (red text), and bytes that are not
/// UTF-8. Unix only: Windows file names cannot hold control characters,
/// and are UTF-16.
#[cfg(unix)]
pub fn hostile_names() -> Vec<OsString> {
    use std::os::unix::ffi::OsStringExt;
    vec![
        OsString::from("lib\nevil"),
        OsString::from("lib\u{1b}[31mred"),
        OsString::from_vec(b"lib\xff\xfenot-utf8".to_vec()),
    ]
}

/// Reverses [`plugboard_host::display::shown`]: the bytes of the name it
/// escaped (`\n`, `\r`, `\t`, `\\`, `\u{..}`, `\xNN`).
pub fn unescape(shown: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = shown.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("\\xNN"));
            }
            Some('u') => {
                assert_eq!(chars.next(), Some('{'), "\\u{{..}}");
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&hex, 16).expect("\\u{..}"))
                    .expect("a char");
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => panic!("`\\{other:?}` is not an escape `shown` writes"),
        }
    }
    out
}

/// The path an escaped name in text output names.
#[cfg(unix)]
pub fn unescaped_path(shown: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(unescape(shown)))
}
