//! Which plain Rust types cross the plugin boundary, and as what.
//!
//! Every supported type has an FFI form (an `abi_stable` type defined outside
//! the user's crate) and two conversions: `lower` (plain → FFI, on the side
//! that sends it) and `raise` (FFI → plain, on the side that receives it).
//! Borrowed types (`&str`, `&[T]`, and abi_stable's `RStr<'_>` and
//! `RSlice<'_, T>`) are allowed only as a method's own parameters and
//! result; they cross without copying.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::{spanned::Spanned, GenericArgument, PathArguments, Type};

/// The list every "unsupported type" error ends with.
pub(crate) const SUPPORTED: &str = "supported: integers (up to 64 bits), f32, f64, bool, char, &str, String, &[T], Vec<T>, Option<T>, Result<T, PluginError>, tuples of up to 4 of these, abi_stable's R-types, and types that #[derive(StableAbi)]";

/// A type in a value position (inside containers, or an owned parameter or
/// result).
#[derive(Clone)]
pub(crate) struct Value {
    kind: Kind,
    /// The type as the user wrote it.
    written: Type,
}

#[derive(Clone)]
enum Kind {
    /// Integers, floats, bool, `()`: cross as themselves.
    Plain,
    /// Crosses as `u32`.
    Char,
    /// Crosses as `RString`.
    String,
    /// Crosses as `RVec<T>`.
    Vec(Box<Value>),
    /// Crosses as `ROption<T>`.
    Option(Box<Value>),
    /// Crosses as `RResult<T, PluginError>`.
    Result(Box<Value>),
    /// Crosses as `Tuple1..4`.
    Tuple(Vec<Value>),
    /// Any other named type: an R-type or a `#[derive(StableAbi)]` type,
    /// crossing as itself.
    AsIs,
}

/// A method parameter.
pub(crate) enum Param {
    /// An owned value.
    Value(Value),
    /// `&str`.
    Str,
    /// `RStr<'_>`: crosses like `&str`.
    RStr,
    /// `RSlice<'_, T>`: crosses like `&[T]`, of a type that crosses as itself.
    RSlice(Value),
    /// `&[T]` of a type that crosses as itself: no copy.
    Slice(Value),
    /// `&[T]` of a type that must be converted: crosses as an `RVec`.
    SliceCopied(Value),
}

/// A method result (inside `Result<_, PluginError>` for a fallible method).
pub(crate) enum Ret {
    /// An owned value.
    Value(Value),
    /// `&str` borrowed from `self`.
    Str,
    /// `&[T]` borrowed from `self`, of a type that crosses as itself.
    Slice(Value),
    /// `RStr<'_>` borrowed from `self`.
    RStr,
    /// `RSlice<'_, T>` borrowed from `self`.
    RSlice(Value),
}

fn pb() -> TokenStream {
    quote!(::plugboard_interface::__private)
}

fn std_types() -> TokenStream {
    quote!(::plugboard_interface::__private::abi_stable::std_types)
}

fn unsupported(ty: &impl ToTokens, why: &str) -> syn::Error {
    let shown = ty
        .to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&");
    syn::Error::new_spanned(
        ty,
        format!("`{shown}` cannot cross the plugin boundary{why}; {SUPPORTED}"),
    )
}

/// The single generic argument of a path segment (`Vec<T>` → `T`).
fn generic_args(segment: &syn::PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `ty` names `PluginError` (as `PluginError` or a path ending in it).
pub(crate) fn is_plugin_error(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "PluginError" && s.arguments.is_empty()),
        Type::Group(g) => is_plugin_error(&g.elem),
        Type::Paren(p) => is_plugin_error(&p.elem),
        _ => false,
    }
}

/// `Result<T, PluginError>` → `Some(T)`; another `Result` is an error.
pub(crate) fn result_ok_type(ty: &Type) -> syn::Result<Option<&Type>> {
    let Type::Path(p) = ty else { return Ok(None) };
    let Some(last) = p.path.segments.last() else {
        return Ok(None);
    };
    if last.ident != "Result" || p.qself.is_some() {
        return Ok(None);
    }
    match generic_args(last).as_slice() {
        [ok, err] if is_plugin_error(err) => Ok(Some(ok)),
        [_, err] => Err(syn::Error::new_spanned(
            err,
            "an interface method's `Result` must use `PluginError` as its error type (build one with `PluginError::failed(\"...\")`)",
        )),
        _ => Err(syn::Error::new_spanned(
            ty,
            "write `Result<T, PluginError>` in full (a `Result` alias cannot cross the plugin boundary)",
        )),
    }
}

impl Value {
    /// Classifies a type in a value position.
    pub(crate) fn parse(ty: &Type) -> syn::Result<Self> {
        let kind = match ty {
            Type::Paren(p) => return Self::parse(&p.elem),
            Type::Group(g) => return Self::parse(&g.elem),
            Type::Tuple(t) if t.elems.is_empty() => Kind::Plain,
            Type::Tuple(t) if t.elems.len() <= 4 => Kind::Tuple(
                t.elems
                    .iter()
                    .map(Self::parse)
                    .collect::<syn::Result<_>>()?,
            ),
            Type::Tuple(t) => return Err(unsupported(t, " (tuples of more than 4 elements)")),
            Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last().expect("a path has a segment");
                let name = last.ident.to_string();
                let args = generic_args(last);
                match (name.as_str(), args.as_slice()) {
                        (
                            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64"
                            | "isize" | "f32" | "f64" | "bool",
                            [],
                        ) => Kind::Plain,
                        ("u128" | "i128", []) => {
                            return Err(unsupported(
                                ty,
                                " (128-bit integers have no stable C layout)",
                            ))
                        }
                        ("char", []) => Kind::Char,
                        ("String", []) => Kind::String,
                        ("Vec", [elem]) => Kind::Vec(Box::new(Self::parse(elem)?)),
                        ("Option", [elem]) => Kind::Option(Box::new(Self::parse(elem)?)),
                        ("Result", _) => match result_ok_type(ty)? {
                            Some(ok) => Kind::Result(Box::new(Self::parse(ok)?)),
                            None => return Err(unsupported(ty, "")),
                        },
                        (
                            "Box" | "Rc" | "Arc" | "Cell" | "RefCell" | "Mutex" | "RwLock"
                            | "HashMap" | "HashSet" | "BTreeMap" | "BTreeSet" | "VecDeque"
                            | "LinkedList" | "BinaryHeap" | "Cow" | "PathBuf" | "Path" | "OsString"
                            | "OsStr" | "CString" | "CStr" | "Duration" | "Instant" | "SystemTime"
                            | "str" | "Self",
                            _,
                        ) => return Err(unsupported(ty, "")),
                        _ if borrows(ty) => return Err(unsupported(
                            ty,
                            " (a borrow can only be a method's own parameter or result: `&str`, `&[T]`, `RStr<'_>` or `RSlice<'_, T>`)",
                        )),
                        _ => Kind::AsIs,
                    }
            }
            Type::Reference(_) => {
                return Err(unsupported(
                    ty,
                    " (a borrow can only be a method's own parameter or result: `&str`, `&[T]`, `RStr<'_>` or `RSlice<'_, T>`)",
                ))
            }
            _ => return Err(unsupported(ty, "")),
        };
        Ok(Self {
            kind,
            written: ty.clone(),
        })
    }

    /// Whether the type crosses as itself (no conversion, no copy).
    pub(crate) fn is_identity(&self) -> bool {
        matches!(self.kind, Kind::Plain | Kind::AsIs)
    }

    /// The named types that cross as themselves, to be checked for
    /// `StableAbi` with a clear message.
    pub(crate) fn as_is_types(&self, out: &mut Vec<Type>) {
        match &self.kind {
            Kind::AsIs => out.push(self.written.clone()),
            Kind::Vec(v) | Kind::Option(v) | Kind::Result(v) => v.as_is_types(out),
            Kind::Tuple(items) => items.iter().for_each(|v| v.as_is_types(out)),
            Kind::Plain | Kind::Char | Kind::String => {}
        }
    }

    /// The FFI form.
    pub(crate) fn ffi(&self) -> TokenStream {
        let st = std_types();
        match &self.kind {
            Kind::Plain | Kind::AsIs => self.written.to_token_stream(),
            Kind::Char => quote!(u32),
            Kind::String => quote!(#st::RString),
            Kind::Vec(v) => {
                let inner = v.ffi();
                quote!(#st::RVec<#inner>)
            }
            Kind::Option(v) => {
                let inner = v.ffi();
                quote!(#st::ROption<#inner>)
            }
            Kind::Result(v) => {
                let inner = v.ffi();
                quote!(#st::RResult<#inner, ::plugboard_interface::PluginError>)
            }
            Kind::Tuple(items) => {
                let tuple = tuple_name(items.len());
                let inner = items.iter().map(Value::ffi);
                quote!(#st::#tuple<#(#inner),*>)
            }
        }
    }

    /// Plain → FFI.
    pub(crate) fn lower(&self, e: TokenStream) -> TokenStream {
        let st = std_types();
        match &self.kind {
            Kind::Plain | Kind::AsIs => e,
            Kind::Char => quote!((#e as u32)),
            Kind::String => quote!(#st::RString::from(#e)),
            Kind::Vec(v) if v.is_identity() => quote!(#st::RVec::from(#e)),
            Kind::Vec(v) => {
                let each = v.lower(quote!(x));
                quote!(#e.into_iter().map(|x| #each).collect::<#st::RVec<_>>())
            }
            Kind::Option(v) => {
                let each = v.lower(quote!(x));
                quote!(#st::ROption::from(#e.map(|x| #each)))
            }
            Kind::Result(v) => {
                let each = v.lower(quote!(x));
                quote!(#st::RResult::from(#e.map(|x| #each)))
            }
            Kind::Tuple(items) => {
                let tuple = tuple_name(items.len());
                let names: Vec<_> = (0..items.len())
                    .map(|i| quote::format_ident!("t{}", i))
                    .collect();
                let each = items.iter().zip(&names).map(|(v, n)| v.lower(quote!(#n)));
                quote!({ let (#(#names,)*) = #e; #st::#tuple(#(#each),*) })
            }
        }
    }

    /// FFI → plain.
    pub(crate) fn raise(&self, e: TokenStream) -> TokenStream {
        let st = std_types();
        match &self.kind {
            Kind::Plain | Kind::AsIs => e,
            Kind::Char => {
                quote!(::core::char::from_u32(#e).unwrap_or(::core::char::REPLACEMENT_CHARACTER))
            }
            Kind::String => quote!(#st::RString::into_string(#e)),
            Kind::Vec(v) if v.is_identity() => quote!(#st::RVec::into_vec(#e)),
            Kind::Vec(v) => {
                let each = v.raise(quote!(x));
                quote!(#e.into_iter().map(|x| #each).collect::<::std::vec::Vec<_>>())
            }
            Kind::Option(v) => {
                let each = v.raise(quote!(x));
                quote!(#st::ROption::into_option(#e).map(|x| #each))
            }
            Kind::Result(v) => {
                let each = v.raise(quote!(x));
                quote!(#st::RResult::into_result(#e).map(|x| #each))
            }
            Kind::Tuple(items) => {
                let tuple = tuple_name(items.len());
                let names: Vec<_> = (0..items.len())
                    .map(|i| quote::format_ident!("t{}", i))
                    .collect();
                let each = items.iter().zip(&names).map(|(v, n)| v.raise(quote!(#n)));
                quote!({ let #st::#tuple(#(#names),*) = #e; (#(#each,)*) })
            }
        }
    }

    /// The type as written.
    pub(crate) fn written(&self) -> &Type {
        &self.written
    }
}

fn tuple_name(n: usize) -> syn::Ident {
    quote::format_ident!("Tuple{}", n)
}

/// Whether `ty` names a lifetime other than `'static` (a borrow).
fn borrows(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        let mut after_quote = false;
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Punct(p) if p.as_char() == '\'' => after_quote = true,
                proc_macro2::TokenTree::Ident(i) if after_quote => {
                    if i != "static" {
                        return true;
                    }
                    after_quote = false;
                }
                proc_macro2::TokenTree::Group(g) => {
                    if walk(g.stream()) {
                        return true;
                    }
                    after_quote = false;
                }
                _ => after_quote = false,
            }
        }
        false
    }
    walk(ty.to_token_stream())
}

/// `&str` / `&[T]` behind a shared, lifetime-elided reference, or abi_stable's
/// `RStr<'_>` / `RSlice<'_, T>`.
enum Borrow<'t> {
    Str,
    Slice(&'t Type),
    RStr,
    RSlice(&'t Type),
}

/// `RStr<'_>` or `RSlice<'_, T>` (with the elided lifetime written out).
fn r_borrow(ty: &Type) -> Option<Borrow<'_>> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut args = args.args.iter();
    let Some(GenericArgument::Lifetime(lifetime)) = args.next() else {
        return None;
    };
    if lifetime.ident != "_" {
        return None;
    }
    match (last.ident.to_string().as_str(), args.next(), args.next()) {
        ("RStr", None, None) => Some(Borrow::RStr),
        ("RSlice", Some(GenericArgument::Type(elem)), None) => Some(Borrow::RSlice(elem)),
        _ => None,
    }
}

fn borrow(ty: &Type) -> syn::Result<Option<Borrow<'_>>> {
    if let Some(b) = r_borrow(ty) {
        return Ok(Some(b));
    }
    let Type::Reference(r) = ty else {
        return Ok(None);
    };
    if r.mutability.is_some() {
        return Err(unsupported(
            ty,
            " (a `&mut` parameter: return the new value instead)",
        ));
    }
    if let Some(lifetime) = &r.lifetime {
        return Err(syn::Error::new_spanned(
            lifetime,
            "borrows in an interface use elided lifetimes: a parameter lives for the call, a result as long as the borrow of `self`",
        ));
    }
    match &*r.elem {
        Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => Ok(Some(Borrow::Str)),
        Type::Slice(s) => Ok(Some(Borrow::Slice(&s.elem))),
        _ => Err(unsupported(
            ty,
            " (pass the value itself, or `&str` / `&[T]`)",
        )),
    }
}

impl Param {
    /// Classifies a method parameter's type.
    pub(crate) fn parse(ty: &Type) -> syn::Result<Self> {
        Ok(match borrow(ty)? {
            Some(Borrow::Str) => Param::Str,
            Some(Borrow::Slice(elem)) => {
                let elem = Value::parse(elem)?;
                if elem.is_identity() {
                    Param::Slice(elem)
                } else {
                    Param::SliceCopied(elem)
                }
            }
            Some(Borrow::RStr) => Param::RStr,
            Some(Borrow::RSlice(elem)) => Param::RSlice(r_slice_elem(ty, elem)?),
            None => Param::Value(Value::parse(ty)?),
        })
    }

    /// The parameter's type in the packed arguments.
    pub(crate) fn ffi(&self) -> TokenStream {
        let pb = pb();
        let st = std_types();
        match self {
            Param::Value(v) => {
                let inner = v.ffi();
                quote!(#pb::Own<#inner>)
            }
            Param::Str | Param::RStr => quote!(#pb::FfiStr),
            Param::Slice(v) | Param::RSlice(v) => {
                let inner = v.ffi();
                quote!(#pb::FfiSlice<#inner>)
            }
            Param::SliceCopied(v) => {
                let inner = v.ffi();
                quote!(#pb::Own<#st::RVec<#inner>>)
            }
        }
    }

    /// Host side: the argument `e` (of the written type) lowered.
    pub(crate) fn lower(&self, e: TokenStream) -> TokenStream {
        let pb = pb();
        let st = std_types();
        match self {
            Param::Value(v) => {
                let lowered = v.lower(e);
                quote!(#pb::Own(#lowered))
            }
            Param::Str => quote!(#pb::FfiStr::new(#e)),
            Param::Slice(_) => quote!(#pb::FfiSlice::new(#e)),
            Param::RStr => quote!(#pb::FfiStr::new(#st::RStr::as_str(&#e))),
            Param::RSlice(_) => quote!(#pb::FfiSlice::new(#st::RSlice::as_slice(&#e))),
            Param::SliceCopied(v) => {
                let each = v.lower(quote!(x));
                quote!(#pb::Own(#e.iter().cloned().map(|x| #each).collect::<#st::RVec<_>>()))
            }
        }
    }

    /// Plugin side: the viewed argument `e` raised to an owned binding.
    pub(crate) fn raise(&self, e: TokenStream) -> TokenStream {
        let st = std_types();
        match self {
            Param::Value(v) => v.raise(e),
            Param::Str | Param::Slice(_) => e,
            Param::RStr => quote!(#st::RStr::from_str(#e)),
            Param::RSlice(_) => quote!(#st::RSlice::from_slice(#e)),
            Param::SliceCopied(v) => {
                let each = v.raise(quote!(x));
                quote!(#e.into_iter().map(|x| #each).collect::<::std::vec::Vec<_>>())
            }
        }
    }

    /// Plugin side: how the raised binding `e` is passed to the method.
    pub(crate) fn pass(&self, e: TokenStream) -> TokenStream {
        match self {
            Param::SliceCopied(_) => quote!(&#e),
            _ => e,
        }
    }

    /// The owned type the argument is read as when calls travel as data.
    pub(crate) fn owned(&self, written: &Type) -> TokenStream {
        match self {
            Param::Value(_) => written.to_token_stream(),
            Param::Str | Param::RStr => quote!(::std::string::String),
            Param::Slice(v) | Param::SliceCopied(v) | Param::RSlice(v) => {
                let elem = v.written();
                quote!(::std::vec::Vec<#elem>)
            }
        }
    }

    /// How the owned argument `e` (read as [`owned`](Self::owned)) is passed
    /// to the method.
    pub(crate) fn pass_owned(&self, e: TokenStream) -> TokenStream {
        let st = std_types();
        match self {
            Param::Value(_) => e,
            Param::Str | Param::Slice(_) | Param::SliceCopied(_) => quote!(&#e),
            Param::RStr => quote!(#st::RStr::from_str(&#e)),
            Param::RSlice(_) => quote!(#st::RSlice::from_slice(&#e)),
        }
    }

    /// The named types that cross as themselves.
    pub(crate) fn as_is_types(&self, out: &mut Vec<Type>) {
        match self {
            Param::Value(v) | Param::Slice(v) | Param::SliceCopied(v) | Param::RSlice(v) => {
                v.as_is_types(out)
            }
            Param::Str | Param::RStr => {}
        }
    }
}

impl Ret {
    /// Classifies a method result's type (the `T` of `Result<T, PluginError>`).
    pub(crate) fn parse(ty: &Type) -> syn::Result<Self> {
        Ok(match borrow(ty)? {
            Some(Borrow::Str) => Ret::Str,
            Some(Borrow::Slice(elem)) => {
                let elem = Value::parse(elem)?;
                if !elem.is_identity() {
                    return Err(unsupported(
                        ty,
                        " as a result (a method can return `&[T]` only of numbers, bool or abi_stable types; return a `Vec` instead)",
                    ));
                }
                Ret::Slice(elem)
            }
            Some(Borrow::RStr) => Ret::RStr,
            Some(Borrow::RSlice(elem)) => Ret::RSlice(r_slice_elem(ty, elem)?),
            None => Ret::Value(Value::parse(ty)?),
        })
    }

    /// The unit result.
    pub(crate) fn unit(span: proc_macro2::Span) -> Self {
        Ret::Value(Value {
            kind: Kind::Plain,
            written: syn::parse_quote_spanned!(span=> ()),
        })
    }

    /// The result's type as it crosses.
    pub(crate) fn ffi(&self) -> TokenStream {
        let pb = pb();
        match self {
            Ret::Value(v) => {
                let inner = v.ffi();
                quote!(#pb::Own<#inner>)
            }
            Ret::Str | Ret::RStr => quote!(#pb::FfiStr),
            Ret::Slice(v) | Ret::RSlice(v) => {
                let inner = v.ffi();
                quote!(#pb::FfiSlice<#inner>)
            }
        }
    }

    /// Plugin side: the method's result `e` lowered.
    pub(crate) fn lower(&self, e: TokenStream) -> TokenStream {
        let pb = pb();
        let st = std_types();
        match self {
            Ret::Value(v) => {
                let lowered = v.lower(e);
                quote!(#pb::Own(#lowered))
            }
            Ret::Str => quote!(#pb::FfiStr::new(#e)),
            Ret::Slice(_) => quote!(#pb::FfiSlice::new(#e)),
            Ret::RStr => quote!(#pb::FfiStr::new(#st::RStr::as_str(&#e))),
            Ret::RSlice(_) => quote!(#pb::FfiSlice::new(#st::RSlice::as_slice(&#e))),
        }
    }

    /// Host side: the viewed result `e` raised.
    pub(crate) fn raise(&self, e: TokenStream) -> TokenStream {
        let st = std_types();
        match self {
            Ret::Value(v) => v.raise(e),
            Ret::Str | Ret::Slice(_) => e,
            Ret::RStr => quote!(#st::RStr::from_str(#e)),
            Ret::RSlice(_) => quote!(#st::RSlice::from_slice(#e)),
        }
    }

    /// Whether the result is borrowed from the plugin's object (it cannot
    /// come back from another process).
    pub(crate) fn is_borrow(&self) -> bool {
        !matches!(self, Ret::Value(_))
    }

    /// The owned type the result is written as when calls travel as data,
    /// and how to get it from the result `e`.
    pub(crate) fn owned(&self, written: &Type, e: TokenStream) -> (TokenStream, TokenStream) {
        match self {
            Ret::Value(_) => (written.to_token_stream(), e),
            Ret::Str => (
                quote!(::std::string::String),
                quote!(::std::borrow::ToOwned::to_owned(#e)),
            ),
            Ret::Slice(v) => {
                let elem = v.written();
                (quote!(::std::vec::Vec<#elem>), quote!(#e.to_vec()))
            }
            Ret::RStr => (
                quote!(::std::string::String),
                quote!(::std::borrow::ToOwned::to_owned(#e.as_str())),
            ),
            Ret::RSlice(v) => {
                let elem = v.written();
                (
                    quote!(::std::vec::Vec<#elem>),
                    quote!(#e.as_slice().to_vec()),
                )
            }
        }
    }

    /// The named types that cross as themselves.
    pub(crate) fn as_is_types(&self, out: &mut Vec<Type>) {
        match self {
            Ret::Value(v) | Ret::Slice(v) | Ret::RSlice(v) => v.as_is_types(out),
            Ret::Str | Ret::RStr => {}
        }
    }
}

/// The element of `RSlice<'_, T>`: a type that crosses as itself.
fn r_slice_elem(ty: &Type, elem: &Type) -> syn::Result<Value> {
    let elem = Value::parse(elem)?;
    if !elem.is_identity() {
        return Err(unsupported(
            ty,
            " (an `RSlice<'_, T>` holds values that cross as themselves: numbers, bool, abi_stable types; use `&[T]` for others)",
        ));
    }
    Ok(elem)
}

/// A `StableAbi` check with a clear message for a type that crosses as
/// itself.
pub(crate) fn check_crosses(ty: &Type) -> TokenStream {
    let pb = pb();
    quote_spanned! {ty.span()=>
        #pb::require_stable_abi::<#ty, _>((&&#pb::StableProbe::<#ty>::new()).verdict());
    }
}
