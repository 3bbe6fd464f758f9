//! Showing file names and other text from plugins safely on a terminal: a
//! control character (a line break, an escape sequence) or a character that
//! reorders or separates lines (Unicode bidirectional controls, U+2028,
//! U+2029) is written as an escape, and bytes that are not UTF-8 as `\xNN`,
//! so that every name shown is one line, sends nothing to the terminal, and
//! can be typed back ([`shown`]). A message that holds names already shown
//! and text a plugin supplied is written with [`controls_escaped`].
//!
//! # Platform-specific behaviour
//!
//! On Windows a path's `\` is its separator (no file name can hold one), so
//! [`path`] shows it as it is, where [`shown`] writes `\\`: `C:\plugins\x.dll`
//! reads as itself. Windows names are UTF-16; an unpaired surrogate, which
//! is not text, is shown as `\u{d800}` (its code unit) instead of `\xNN`.
//! Windows file names cannot hold the control characters below U+0020, so a
//! shown path is ambiguous only for a name with another character that is
//! escaped (`\u{7f}` also reads as a separator and a name that starts
//! `u{7f}`).

use std::{ffi::OsStr, fmt, path::Path};

/// Whether `c` must not reach a terminal as it is: a control character, or
/// one that separates lines or reorders text.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with control characters and non-UTF-8 bytes escaped.
pub fn shown<T: AsRef<OsStr> + ?Sized>(text: &T) -> Shown<'_> {
    Shown {
        text: text.as_ref(),
        is_path: false,
    }
}

/// Text shown safely (see [`shown`] and [`path`]).
pub struct Shown<'a> {
    text: &'a OsStr,
    /// A path: on Windows its separators are shown as they are.
    is_path: bool,
}

impl Shown<'_> {
    fn write_char(&self, f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
        match c {
            '\n' => f.write_str("\\n"),
            '\r' => f.write_str("\\r"),
            '\t' => f.write_str("\\t"),
            '\\' if self.is_path && cfg!(windows) => f.write_str("\\"),
            '\\' => f.write_str("\\\\"),
            c if needs_escape(c) => write!(f, "\\u{{{:x}}}", c as u32),
            c => fmt::Write::write_char(f, c),
        }
    }
}

impl fmt::Display for Shown<'_> {
    #[cfg(not(windows))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.text.as_encoded_bytes().utf8_chunks() {
            for c in chunk.valid().chars() {
                self.write_char(f, c)?;
            }
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }

    #[cfg(windows)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::os::windows::ffi::OsStrExt;
        for unit in char::decode_utf16(self.text.encode_wide()) {
            match unit {
                Ok(c) => self.write_char(f, c)?,
                Err(e) => write!(f, "\\u{{{:x}}}", e.unpaired_surrogate())?,
            }
        }
        Ok(())
    }
}

/// A path, shown with [`shown`] (on Windows, with its `\` separators as
/// they are).
pub fn path(path: &Path) -> Shown<'_> {
    Shown {
        text: path.as_os_str(),
        is_path: true,
    }
}

/// `value`'s text with the characters [`shown`] escapes escaped the same
/// way, and every other character, backslashes included, kept: for a
/// message that holds file names already shown (which it leaves as they
/// are) beside text from a plugin (which cannot reach the terminal raw).
pub fn controls_escaped<T: fmt::Display + ?Sized>(value: &T) -> ControlsEscaped<'_, T> {
    ControlsEscaped(value)
}

/// A message written with [`controls_escaped`].
pub struct ControlsEscaped<'a, T: ?Sized>(&'a T);

impl<T: fmt::Display + ?Sized> fmt::Display for ControlsEscaped<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                for c in text.chars() {
                    match c {
                        '\n' => self.0.write_str("\\n")?,
                        '\r' => self.0.write_str("\\r")?,
                        '\t' => self.0.write_str("\\t")?,
                        c if needs_escape(c) => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                        c => fmt::Write::write_char(self.0, c)?,
                    }
                }
                Ok(())
            }
        }
        fmt::write(&mut Escaping(f), format_args!("{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::{controls_escaped, shown};

    #[test]
    fn control_characters_and_bad_bytes_are_escaped() {
        assert_eq!(
            shown("lib\u{202e}os.so").to_string(),
            "lib\\u{202e}os.so",
            "a bidirectional override would show another name"
        );
        assert_eq!(shown("a\u{2028}b").to_string(), "a\\u{2028}b");
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
        #[cfg(windows)]
        {
            use std::os::windows::ffi::OsStringExt;
            let wide: Vec<u16> = "lib".encode_utf16().chain([0xd800]).collect();
            let name = std::ffi::OsString::from_wide(&wide);
            assert_eq!(shown(&name).to_string(), "lib\\u{d800}");
        }
    }

    #[test]
    fn a_paths_separators_read_as_themselves() {
        let p = std::path::Path::new("plugins").join("lib\nx.so");
        let separator = std::path::MAIN_SEPARATOR;
        assert_eq!(
            super::path(&p).to_string(),
            format!("plugins{separator}lib\\nx.so")
        );
        // `\` is a separator only on Windows; elsewhere it is part of a name.
        let backslash = std::path::Path::new("a\\b.so");
        let expected = if cfg!(windows) {
            "a\\b.so"
        } else {
            "a\\\\b.so"
        };
        assert_eq!(super::path(backslash).to_string(), expected);
    }

    #[test]
    fn messages_keep_what_is_shown_and_escape_what_a_plugin_wrote() {
        let message = format!("{}: {}", shown("a\\b\n.so"), "plugin said \u{1b}[2J\n");
        assert_eq!(
            controls_escaped(&message).to_string(),
            "a\\\\b\\n.so: plugin said \\u{1b}[2J\\n"
        );
    }
}
