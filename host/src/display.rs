//! Showing file names and other text from plugins safely on a terminal: a
//! control character (a line break, an escape sequence) is written as an
//! escape, and bytes that are not UTF-8 as `\xNN`, so that every name shown
//! is one line, sends nothing to the terminal, and can be typed back.

use std::{ffi::OsStr, fmt, path::Path};

/// `text` with control characters and non-UTF-8 bytes escaped.
pub fn shown<T: AsRef<OsStr> + ?Sized>(text: &T) -> Shown<'_> {
    Shown(text.as_ref())
}

/// Text shown safely (see [`shown`]).
pub struct Shown<'a>(&'a OsStr);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.as_encoded_bytes().utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    '\\' => f.write_str("\\\\")?,
                    c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                    c => fmt::Write::write_char(f, c)?,
                }
            }
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

/// A path, shown with [`shown`].
pub fn path(path: &Path) -> Shown<'_> {
    Shown(path.as_os_str())
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn control_characters_and_bad_bytes_are_escaped() {
        assert_eq!(shown("lib\nevil.so").to_string(), "lib\\nevil.so");
        assert_eq!(
            shown("lib\u{1b}[31mred.so").to_string(),
            "lib\\u{1b}[31mred.so"
        );
        assert_eq!(shown("a\\b").to_string(), "a\\\\b");
        assert_eq!(shown("plain-name.so").to_string(), "plain-name.so");
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::OsStr::from_bytes(b"lib\xffx.so");
            assert_eq!(shown(name).to_string(), "lib\\xffx.so");
        }
    }
}
