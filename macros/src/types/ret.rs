//! A method's result: what it crosses as, and its conversions on each side
//! and when calls travel as data.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Type;

use super::{
    borrow::{borrow, r_slice_elem, Borrow},
    check::unsupported,
    pb, std_types,
    value::Value,
};

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
        Ret::Value(Value::unit(span))
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
