//! Layout compatibility: `abi_stable`'s checker, run both ways for an older
//! side, with its report shortened to the first mismatch; and the check of
//! an `#[interface]` trait's method table, method by method. Identical
//! layouts — what every library built against the host's own interface
//! crates carries — pass without the checker ([`identical`]).

mod identical;

use abi_stable::{
    abi_stability::abi_checking::{
        check_layout_compatibility, AbiInstability, AbiInstabilityError, AbiInstabilityErrors,
    },
    type_layout::{TLFieldOrFunction, TypeLayout},
};
use plugboard_interface::{MethodTable, MissingMethod};

/// Checks that `actual` can be used where `expected` is expected. When the
/// `actual` side declares an older minor version, a failed check is retried
/// the other way round: that passes exactly when `actual` is `expected` with
/// trailing prefix fields missing, which the optional accessors handle.
pub(crate) fn check_layouts(
    expected: &'static TypeLayout,
    actual: &'static TypeLayout,
    actual_is_older: bool,
) -> Result<(), AbiInstabilityErrors> {
    match compatible(expected, actual) {
        Ok(()) => Ok(()),
        Err(_) if actual_is_older && compatible(actual, expected).is_ok() => Ok(()),
        Err(errors) => Err(errors),
    }
}

/// `abi_stable`'s check that `actual` can be used where `expected` is
/// expected, skipped when the two are [identical](identical::identical).
fn compatible(
    expected: &'static TypeLayout,
    actual: &'static TypeLayout,
) -> Result<(), AbiInstabilityErrors> {
    if identical::identical(expected, actual) {
        return Ok(());
    }
    check_layout_compatibility(expected, actual)
}

/// Semver compatibility as Cargo reads it: same major version, and for 0.x,
/// same minor version.
pub(crate) fn semver_compatible(host: &semver::Version, plugin: &semver::Version) -> bool {
    host.major == plugin.major && (host.major != 0 || host.minor == plugin.minor)
}

/// The rule a host applies to every type that crosses the boundary: can a
/// value whose layout is `actual`, built against `actual_version`, be used
/// where `expected` (at `expected_version`) is expected? Same major (for
/// 0.x, same minor), and `abi_stable`'s layout check — run the other way
/// round too when `actual` is the older minor.
///
/// # Errors
///
/// A one-line reason: the versions are not semver, the majors differ, or
/// the first layout mismatch.
pub fn layouts_compatible(
    expected: &'static TypeLayout,
    expected_version: &str,
    actual: &'static TypeLayout,
    actual_version: &str,
) -> Result<(), String> {
    let parse = |v: &str| {
        semver::Version::parse(v).map_err(|e| format!("`{v}` is not a semantic version ({e})"))
    };
    let (expected_v, actual_v) = (parse(expected_version)?, parse(actual_version)?);
    if !semver_compatible(&expected_v, &actual_v) {
        return Err("the major versions differ".to_owned());
    }
    check_layouts(expected, actual, actual_v < expected_v).map_err(|e| summarize(&e))
}

/// Why two method tables are not compatible: one line, and the layout
/// checker's full report when a method's layout differs.
pub(crate) struct MethodsMismatch {
    pub(crate) summary: String,
    pub(crate) details: String,
}

/// Checks an `#[interface]` object's methods: `actual` (built against
/// `actual_version`) used where `expected` (at `expected_version`) is
/// expected. The methods both have must have the same names and compatible
/// layouts; `actual` may lack methods only if they came after its version
/// (`#[since]`), and may have more only if it is newer. Returns the methods
/// `actual` lacks.
pub(crate) fn check_methods(
    expected: &MethodTable,
    expected_version: &semver::Version,
    actual: &MethodTable,
    actual_version: &semver::Version,
) -> Result<Vec<MissingMethod>, MethodsMismatch> {
    let mismatch = |summary: String| MethodsMismatch {
        summary,
        details: String::new(),
    };
    let (want, have) = (expected.methods.as_slice(), actual.methods.as_slice());
    for (i, (w, h)) in want.iter().zip(have).enumerate() {
        if w.name != h.name {
            return Err(mismatch(format!(
                "method {} is `{}` on one side and `{}` on the other",
                i + 1,
                w.name,
                h.name
            )));
        }
        if let Err(errors) = compatible(w.layout, h.layout) {
            return Err(MethodsMismatch {
                summary: format!(
                    "`{}` differs: `{}` against `{}` ({})",
                    w.name,
                    w.signature,
                    h.signature,
                    summarize(&errors)
                ),
                details: errors.to_string(),
            });
        }
        if w.fallible != h.fallible {
            return Err(mismatch(format!(
                "`{}` returns `Result` on one side only: `{}` against `{}`",
                w.name, w.signature, h.signature
            )));
        }
    }
    if have.len() > want.len() && actual_version <= expected_version {
        return Err(mismatch(format!(
            "it has {} methods where {} {expected_version} has {}",
            have.len(),
            expected.interface,
            want.len()
        )));
    }
    let mut missing = Vec::new();
    for w in want.iter().skip(have.len()) {
        let since = w
            .since()
            .and_then(|since| semver::Version::parse(since).ok());
        match since {
            Some(since) if since > *actual_version => missing.push(MissingMethod {
                name: w.name.to_string(),
                since: since.to_string(),
            }),
            Some(since) => {
                return Err(mismatch(format!(
                    "it lacks `{}`, which arrived in {since}, although it declares {}",
                    w.name, actual_version
                )))
            }
            None => {
                return Err(mismatch(format!(
                    "it lacks `{}`, which has no #[since] in {} {expected_version}: a method added in a minor version needs #[since(\"…\")]",
                    w.name, expected.interface
                )))
            }
        }
    }
    Ok(missing)
}

/// For a hand-written `#[sabi_trait]` object that passed the reverse check
/// (an older plugin): the vtable methods it lacks, by name — the fields
/// of prefix types the host's layout has beyond the plugin's.
pub(crate) fn missing_prefix_fields(
    host: &'static TypeLayout,
    plugin: &'static TypeLayout,
) -> Vec<String> {
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    walk_prefix_fields(host, plugin, &mut missing, &mut seen, 0);
    missing
}

fn walk_prefix_fields(
    host: &'static TypeLayout,
    plugin: &'static TypeLayout,
    missing: &mut Vec<String>,
    seen: &mut Vec<*const TypeLayout>,
    depth: usize,
) {
    if depth > 32 || seen.contains(&(host as *const _)) {
        return;
    }
    seen.push(host);
    let (Some(host_fields), Some(plugin_fields)) = (host.get_fields(), plugin.get_fields()) else {
        return;
    };
    let plugin_names: Vec<&str> = plugin_fields.iter().map(|f| f.name()).collect();
    if host.is_prefix_kind() && plugin.is_prefix_kind() {
        missing.extend(
            host_fields
                .iter()
                .skip(plugin_names.len())
                .map(|f| f.name().to_owned()),
        );
    }
    for field in host_fields.iter() {
        if let Some(other) = plugin_fields.iter().find(|f| f.name() == field.name()) {
            walk_prefix_fields(field.layout(), other.layout(), missing, seen, depth + 1);
        }
    }
    let (host_vars, plugin_vars) = (
        host.shared_vars().type_layouts(),
        plugin.shared_vars().type_layouts(),
    );
    for (h, p) in host_vars.iter().zip(plugin_vars) {
        walk_prefix_fields(h(), p(), missing, seen, depth + 1);
    }
}

/// The first mismatch of a layout check, on one line:
/// ``at `Greeter_TO.obj.vtable.greet`: a different type: expected `u64`, found `RStr`.``
///
/// A vtable with fewer methods than the host's ("field count") is what an
/// older minor looks like, and not the interesting part when something else
/// differs too: other mismatches are preferred.
pub(crate) fn summarize(errors: &AbiInstabilityErrors) -> String {
    let only_field_count = |e: &&AbiInstabilityError| {
        e.errs
            .iter()
            .all(|i| matches!(i, AbiInstability::FieldCountMismatch(_)))
    };
    let nonempty = || errors.errors.iter().filter(|e| !e.errs.is_empty());
    let Some(first) = nonempty()
        .find(|e| !only_field_count(e))
        .or_else(|| nonempty().next())
    else {
        return "the type layouts differ".to_owned();
    };
    let mut location = vec![errors.interface.name()];
    location.extend(first.stack_trace.iter().map(|step| match &step.found {
        TLFieldOrFunction::Field(field) => field.name(),
        TLFieldOrFunction::Function(function) => function.name.as_str(),
    }));
    location.dedup();
    let what = first
        .errs
        .iter()
        .find(|e| !matches!(e, AbiInstability::FieldCountMismatch(_)))
        .or_else(|| first.errs.first())
        .map_or_else(|| "the type layouts differ".to_owned(), describe);
    format!("at `{}`: {what}", location.join("."))
}

/// One instability, in words, with what was expected and found.
fn describe(instability: &AbiInstability) -> String {
    fn both(what: &str, e: impl std::fmt::Display, f: impl std::fmt::Display) -> String {
        format!(
            "{what}: expected `{}`, found `{}`",
            shorten(&e.to_string()),
            shorten(&f.to_string())
        )
    }
    use AbiInstability as A;
    match instability {
        A::Name(x) => both("a different type", x.expected, x.found),
        A::Package(x) => both("a type from another package", x.expected, x.found),
        A::PackageVersion(x) => both("an incompatible package version", x.expected, x.found),
        A::Size(x) => both("a different size", x.expected, x.found),
        A::Alignment(x) => both("a different alignment", x.expected, x.found),
        A::FieldCountMismatch(x) => both("a different number of fields", x.expected, x.found),
        A::TooManyVariants(x) => both("more enum variants", x.expected, x.found),
        A::MismatchedPrimitive(x) => both(
            "a different primitive type",
            format!("{:?}", x.expected),
            format!("{:?}", x.found),
        ),
        A::UnexpectedField(x) => both("a different field", x.expected.name(), x.found.name()),
        A::UnexpectedVariant(x) => both("a different enum variant", x.expected, x.found),
        A::NonZeroness(x) => both("a different non-null guarantee", x.expected, x.found),
        A::GenericParamCount(x) => both("different generic parameters", x.expected, x.found),
        A::MismatchedPrefixSize(x) => both("a different prefix size", x.expected, x.found),
        other => format!("incompatible: {}", shorten(&format!("{other:?}"))),
    }
}

fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    let value = value.trim();
    if value.len() <= MAX {
        return value.to_owned();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|&i| value.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &value[..cut])
}

#[cfg(test)]
mod tests {
    use super::{semver_compatible, shorten};

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn same_major_is_compatible() {
        assert!(semver_compatible(&v("1.0.0"), &v("1.3.2")));
        assert!(semver_compatible(&v("1.3.0"), &v("1.0.0")));
        assert!(!semver_compatible(&v("1.0.0"), &v("2.0.0")));
    }

    #[test]
    fn zero_major_needs_same_minor() {
        assert!(semver_compatible(&v("0.2.0"), &v("0.2.9")));
        assert!(!semver_compatible(&v("0.2.0"), &v("0.3.0")));
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(100);
        let short = shorten(&long);
        assert!(short.ends_with('…') && short.len() <= 84, "{short}");
    }
}
