//! Which plain Rust types cross the plugin boundary, and as what.
//!
//! Every supported type has an FFI form (an `abi_stable` type defined outside
//! the user's crate) and two conversions: `lower` (plain → FFI, on the side
//! that sends it) and `raise` (FFI → plain, on the side that receives it).
//! Borrowed types (`&str`, `&[T]`, and abi_stable's `RStr<'_>` and
//! `RSlice<'_, T>`) are allowed only as a method's own parameters and
//! result; they cross without copying.

//! One file per part: [`value`] (a type in a value position), [`borrow`]
//! (the borrowed forms), [`param`] and [`ret`] (a method's parameters and
//! result), [`check`] (what is refused, and the checks the expansion makes).

mod borrow;
mod check;
mod param;
mod ret;
mod value;

pub(crate) use check::{check_crosses, result_ok_type};
pub(crate) use param::Param;
pub(crate) use ret::Ret;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

fn pb() -> TokenStream {
    quote!(::plugboard_interface::__private)
}

fn std_types() -> TokenStream {
    quote!(::plugboard_interface::__private::abi_stable::std_types)
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
