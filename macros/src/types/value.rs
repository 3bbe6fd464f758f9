//! A type in a value position: what it crosses as, and its conversions.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Type;

use super::{
    check::{result_ok_type, unsupported},
    generic_args, std_types,
};

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

    /// `()`, as if written at `span`.
    pub(super) fn unit(span: proc_macro2::Span) -> Self {
        Self {
            kind: Kind::Plain,
            written: syn::parse_quote_spanned!(span=> ()),
        }
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
