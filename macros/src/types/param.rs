//! A method's parameter: what it crosses as, and its conversions on each
//! side and when calls travel as data.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Type;

use super::{
    borrow::{borrow, r_slice_elem, Borrow},
    pb, std_types,
    value::Value,
};

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
