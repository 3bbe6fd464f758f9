//! The borrowed forms a method's own parameters and result may take:
//! `&str`, `&[T]`, and abi_stable's `RStr<'_>` and `RSlice<'_, T>`.

use syn::{GenericArgument, PathArguments, Type};

use super::{check::unsupported, value::Value};

/// `&str` / `&[T]` behind a shared, lifetime-elided reference, or abi_stable's
/// `RStr<'_>` / `RSlice<'_, T>`.
pub(super) enum Borrow<'t> {
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

pub(super) fn borrow(ty: &Type) -> syn::Result<Option<Borrow<'_>>> {
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

/// The element of `RSlice<'_, T>`: a type that crosses as itself.
pub(super) fn r_slice_elem(ty: &Type, elem: &Type) -> syn::Result<Value> {
    let elem = Value::parse(elem)?;
    if !elem.is_identity() {
        return Err(unsupported(
            ty,
            " (an `RSlice<'_, T>` holds values that cross as themselves: numbers, bool, abi_stable types; use `&[T]` for others)",
        ));
    }
    Ok(elem)
}
