//! Whether two type layouts describe the same types, node for node: the
//! fast path of the layout checks.
//!
//! `abi_stable`'s checker costs about as much as `dlopen` itself (it walks
//! the whole graph of types with a hash map of visited pairs, a stack trace
//! and error lists, and merges prefix types into process-wide tables), and
//! every library built against one `plugboard-interface` carries a graph
//! identical to the host's — the same types, each in its own copy. Two
//! graphs that are identical in everything the checker compares are
//! compatible: the checker compares one side with the other field by field,
//! and each comparison of equal values passes. [`identical`] answers that
//! question directly, in a fraction of the time; when it answers no, the
//! caller runs the full check, whose verdict and report stand.
//!
//! What it compares, for every pair of types reached the same way from the
//! roots: name, package and version (which must parse, as the checker
//! requires), size, alignment, non-zero niche, `repr`, module reflection
//! mode, tag, lifetime and type parameters, phantom fields, and the data —
//! primitive, struct, union, enum (variant names, field counts,
//! discriminants) or prefix type (first suffix field, conditional and
//! accessible fields) — with every field's name, lifetime indices,
//! accessor and function pointer types (name, bound lifetimes, parameter
//! names and types, return type, qualifiers). It does not compare what the
//! checker ignores (source line, module path, the per-library type ids).
//! Const generic parameters compare as the checker compares them. Extra
//! checks are code of their own: the one kind modelled is the
//! `RequiredTraits` of `#[sabi_trait]` objects. It answers no, leaving the
//! case to the checker, for what it does not model: other extra checks,
//! non-exhaustive enums, a prefix type at the root (which the checker
//! refuses), and graphs of more than [`MAX_PAIRS`] types.
//!
//! Prefix types met in a graph that takes this path are not added to
//! `abi_stable`'s process-wide table of prefix types: their fields are the
//! host's own, which every library the checker accepted agrees with.

use std::{
    collections::HashSet,
    hash::{BuildHasherDefault, Hasher},
};

use abi_stable::{
    erased_types::RequiredTraits,
    sabi_types::VersionStrings,
    type_layout::{
        GenericParams, TLData, TLEnum, TLField, TLFields, TLFunction, TLPrefixType, TypeLayout,
    },
    StableAbi,
};

/// Past this many pairs of types, leave the question to the checker.
const MAX_PAIRS: usize = 4096;

/// Whether `expected` and `actual` are the same graph of types in all that
/// `abi_stable`'s layout checker compares (see the module docs); a `true`
/// means the checker would find them compatible.
pub(crate) fn identical(expected: &'static TypeLayout, actual: &'static TypeLayout) -> bool {
    if expected.is_prefix_kind() || actual.is_prefix_kind() {
        return false;
    }
    Walk::default().types(expected, actual)
}

/// The pairs of types already compared (or being compared: a type that
/// contains itself is the same as long as nothing else differs).
#[derive(Default)]
struct Walk {
    seen: HashSet<(usize, usize), BuildHasherDefault<AddressHasher>>,
    /// Version strings found to parse (a few, each met by many types).
    versions: Vec<&'static str>,
}

impl Walk {
    fn types(&mut self, a: &'static TypeLayout, b: &'static TypeLayout) -> bool {
        let pair = (
            a as *const TypeLayout as usize,
            b as *const TypeLayout as usize,
        );
        if !self.seen.insert(pair) {
            return true;
        }
        if self.seen.len() > MAX_PAIRS {
            return false;
        }
        let (a_package, a_version) = a.package_and_version();
        a.name() == b.name()
            && (a_package, a_version) == b.package_and_version()
            && self.parses(a_version)
            && a.size() == b.size()
            && a.alignment() == b.alignment()
            && a.is_nonzero() == b.is_nonzero()
            && a.repr_attr() == b.repr_attr()
            && a.mod_refl_mode() == b.mod_refl_mode()
            && a.tag() == b.tag()
            && self.extra_checks(a, b)
            && self.generics(a.generics(), b.generics())
            && self.fields(a.phantom_fields(), b.phantom_fields())
            && self.data(a.data(), b.data())
    }

    /// Whether a version string parses, as the checker requires.
    fn parses(&mut self, version: VersionStrings) -> bool {
        if self.versions.contains(&version.version.as_str()) {
            return true;
        }
        let parses = version.parsed().is_ok();
        if parses {
            self.versions.push(version.version.as_str());
        }
        parses
    }

    /// Extra checks are code; the one kind modelled is `abi_stable`'s
    /// `RequiredTraits` (on every `#[sabi_trait]` object and `DynTrait`),
    /// which passes when the auto traits are the same and the expected
    /// side's other traits are a subset of the actual side's: equal values
    /// pass. Its `Debug` shows both bit sets.
    fn extra_checks(&mut self, a: &TypeLayout, b: &TypeLayout) -> bool {
        match (a.extra_checks(), b.extra_checks()) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                let required = <RequiredTraits as StableAbi>::LAYOUT;
                self.types(a.type_layout(), required)
                    && self.types(b.type_layout(), required)
                    && format!("{a:?}") == format!("{b:?}")
            }
            _ => false,
        }
    }

    fn generics(&mut self, a: GenericParams, b: GenericParams) -> bool {
        let (a_types, b_types) = (a.type_params(), b.type_params());
        let (a_consts, b_consts) = (a.const_params(), b.const_params());
        // A const parameter compares as the checker compares it: the
        // value types' layouts with the full check, then the values with
        // the expected side's `PartialEq`.
        a_consts.len() == b_consts.len()
            && a_consts.iter().zip(b_consts).all(|(a, b)| a == b)
            && a.lifetime_count() == b.lifetime_count()
            && a.lifetimes().eq(b.lifetimes())
            && a_types.len() == b_types.len()
            && a_types
                .iter()
                .zip(b_types)
                .all(|(a, b)| self.types(a(), b()))
    }

    fn data(&mut self, a: TLData, b: TLData) -> bool {
        match (a, b) {
            (TLData::Primitive(a), TLData::Primitive(b)) => a == b,
            (TLData::Opaque, TLData::Opaque) => true,
            (TLData::Struct { fields: a }, TLData::Struct { fields: b })
            | (TLData::Union { fields: a }, TLData::Union { fields: b }) => self.fields(a, b),
            (TLData::Enum(a), TLData::Enum(b)) => self.enums(&a, &b),
            (TLData::PrefixType(a), TLData::PrefixType(b)) => self.prefix_types(&a, &b),
            _ => false,
        }
    }

    fn enums(&mut self, a: &TLEnum, b: &TLEnum) -> bool {
        a.exhaustiveness.is_exhaustive()
            && b.exhaustiveness.is_exhaustive()
            && a.field_count.as_slice() == b.field_count.as_slice()
            && a.variant_names.as_str() == b.variant_names.as_str()
            && a.discriminants == b.discriminants
            && self.fields(a.fields, b.fields)
    }

    fn prefix_types(&mut self, a: &TLPrefixType, b: &TLPrefixType) -> bool {
        a.first_suffix_field == b.first_suffix_field
            && a.conditional_prefix_fields.bits() == b.conditional_prefix_fields.bits()
            && a.accessible_fields.bits() == b.accessible_fields.bits()
            && self.fields(a.fields, b.fields)
    }

    fn fields(&mut self, a: TLFields, b: TLFields) -> bool {
        a.len() == b.len() && a.iter().zip(b.iter()).all(|(a, b)| self.field(&a, &b))
    }

    fn field(&mut self, a: &TLField, b: &TLField) -> bool {
        let (a_fns, b_fns) = (a.function_range(), b.function_range());
        a.name() == b.name()
            && a.lifetime_indices() == b.lifetime_indices()
            && a.is_function() == b.is_function()
            && a.field_accessor() == b.field_accessor()
            && a_fns.len() == b_fns.len()
            && a_fns
                .iter()
                .zip(b_fns.iter())
                .all(|(a, b)| self.function(&a, &b))
            && self.types(a.layout(), b.layout())
    }

    fn function(&mut self, a: &TLFunction, b: &TLFunction) -> bool {
        let returns = match (a.return_type_layout(), b.return_type_layout()) {
            (None, None) => true,
            (Some(a), Some(b)) => self.types(a(), b()),
            _ => false,
        };
        a.name == b.name
            && a.bound_lifetimes == b.bound_lifetimes
            && a.param_names == b.param_names
            && a.paramret_lifetime_indices == b.paramret_lifetime_indices
            && a.fn_qualifs == b.fn_qualifs
            && a.param_type_layouts.len() == b.param_type_layouts.len()
            && returns
            && (a.param_type_layouts.iter())
                .zip(b.param_type_layouts.iter())
                .all(|(a, b)| self.types(a(), b()))
    }
}

/// Hashes the addresses of a pair of types (SipHash, the default, costs
/// more than the rest of the comparison of a type).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.write_u64(address as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
#[allow(non_local_definitions)] // `#[sabi_trait]` expands to non-local impls.
mod tests {
    use abi_stable::{
        abi_stability::abi_checking::check_layout_compatibility,
        std_types::{RString, RVec},
        StableAbi,
    };

    use super::identical;

    /// The same definition in two modules: two types, two layouts, one
    /// shape.
    macro_rules! shape {
        ($field:ty) => {
            #[repr(C)]
            #[derive(abi_stable::StableAbi)]
            pub(crate) struct Shape {
                pub(crate) count: u32,
                pub(crate) names: abi_stable::std_types::RVec<abi_stable::std_types::RString>,
                pub(crate) callback: extern "C" fn(&Shape, $field) -> bool,
            }
        };
    }
    mod one {
        shape!(u64);
    }
    mod two {
        shape!(u64);
    }
    mod other {
        shape!(u32);
    }

    #[test]
    fn the_same_shape_in_two_places_is_identical_and_compatible() {
        let (a, b) = (one::Shape::LAYOUT, two::Shape::LAYOUT);
        assert!(!std::ptr::eq(a, b));
        assert!(identical(a, b));
        assert!(check_layout_compatibility(a, b).is_ok());
    }

    #[test]
    fn a_different_parameter_type_is_not_identical() {
        let (a, b) = (one::Shape::LAYOUT, other::Shape::LAYOUT);
        assert!(!identical(a, b));
        assert!(check_layout_compatibility(a, b).is_err());
    }

    #[test]
    fn different_types_are_not_identical() {
        let (a, b) = (RVec::<u8>::LAYOUT, RString::LAYOUT);
        assert!(!identical(a, b));
    }

    // `#[sabi_trait]` objects, whose layouts carry `RequiredTraits` extra
    // checks: `Send + Sync` twice, and neither.
    mod speaks {
        #[abi_stable::sabi_trait]
        pub(crate) trait Speak: Send + Sync {
            fn speak(&self, times: u32) -> abi_stable::std_types::RString;
        }
        pub(crate) type Object = Speak_TO<'static, abi_stable::std_types::RBox<()>>;
    }
    mod speaks_too {
        #[abi_stable::sabi_trait]
        pub(crate) trait Speak: Send + Sync {
            fn speak(&self, times: u32) -> abi_stable::std_types::RString;
        }
        pub(crate) type Object = Speak_TO<'static, abi_stable::std_types::RBox<()>>;
    }
    mod speaks_on_one_thread {
        #[abi_stable::sabi_trait]
        pub(crate) trait Speak {
            fn speak(&self, times: u32) -> abi_stable::std_types::RString;
        }
        pub(crate) type Object = Speak_TO<'static, abi_stable::std_types::RBox<()>>;
    }

    #[test]
    fn objects_with_the_same_traits_are_identical() {
        let (a, b) = (speaks::Object::LAYOUT, speaks_too::Object::LAYOUT);
        assert!(identical(a, b));
        assert!(check_layout_compatibility(a, b).is_ok());
    }

    #[test]
    fn objects_with_other_auto_traits_are_not_identical() {
        let (a, b) = (speaks::Object::LAYOUT, speaks_on_one_thread::Object::LAYOUT);
        assert!(!identical(a, b));
        assert!(check_layout_compatibility(a, b).is_err());
    }

    #[test]
    fn the_root_module_is_identical_to_itself() {
        let root = <plugboard_interface::PluginLibraryRef as StableAbi>::LAYOUT;
        assert!(identical(root, root));
    }
}
