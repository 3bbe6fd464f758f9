//! What `#[interface]` generates for one method, piece by piece: its
//! `MethodSpec`, how a plugin's value and a remote object run it (and their
//! vtable slots), the host's handle method, its method-table entry and its
//! call as data. `expand` puts each piece in its place.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, ItemTrait, TraitItem};

use super::{
    method::{render, Method},
    remote::remote_method,
};
use crate::types::check_crosses;

/// The generated code of one method.
pub(super) struct MethodCode {
    /// `unsafe impl MethodSpec for m::<method>`.
    pub(super) spec: TokenStream,
    /// How any `T: Trait` runs it (`Implement` / `ImplementMut`).
    pub(super) implement: TokenStream,
    /// Its slot in the vtable of a `T`.
    pub(super) slot: TokenStream,
    /// How a remote object (a plugin in another process) runs it.
    pub(super) remote: TokenStream,
    /// Its slot in the vtable of remote objects.
    pub(super) remote_slot: TokenStream,
    /// The handle's method: the host's side, which calls the plugin.
    pub(super) handle_method: TokenStream,
    /// The handle's implementation of the trait's method.
    pub(super) trait_method: TokenStream,
    /// Its `MethodInfo` in the method table.
    pub(super) info: TokenStream,
    /// Its arm in `PluginInterface::invoke` (a call as data).
    pub(super) invoke: TokenStream,
    /// Its arm in the method table's `serializable`.
    pub(super) travels: TokenStream,
    /// `StableAbi` checks of the types that cross as themselves.
    pub(super) checks: Vec<TokenStream>,
    /// `(name, since)` for a method added after the first release.
    pub(super) optional: Option<TokenStream>,
}

impl MethodCode {
    /// The code of method `m` of `item`.
    pub(super) fn new(m: &Method, item: &ItemTrait) -> Self {
        let trait_ident = &item.ident;
        let arg_names: Vec<Ident> = (0..m.params.len())
            .map(|i| format_ident!("a{}", i))
            .collect();
        let implement = if m.exclusive {
            quote!(ImplementMut)
        } else {
            quote!(Implement)
        };
        let (handle_method, trait_method) = host_side(m, item, &arg_names);
        let (invoke, travels) = as_data(m, &arg_names);
        let name = m.ident.to_string();
        Self {
            spec: spec(m, trait_ident),
            implement: plugin_side(m, trait_ident, &implement, &arg_names),
            slot: slot(m, quote!(T)),
            remote: remote_method(m, &implement),
            remote_slot: slot(m, quote!(::plugboard_interface::Remote)),
            handle_method,
            trait_method,
            info: info(m),
            invoke,
            travels,
            checks: checks(m),
            optional: m.since.as_ref().map(|s| quote!((#name, #s))),
        }
    }
}

/// The method's `MethodSpec`: index, name, since, packed argument and
/// result types.
fn spec(m: &Method, trait_ident: &Ident) -> TokenStream {
    let pb = quote!(::plugboard_interface::__private);
    let ident = &m.ident;
    let name = ident.to_string();
    let index = m.index;
    let exclusive = m.exclusive;
    let since = match &m.since {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };
    let args_ty = format_ident!("Args{}", m.params.len());
    let param_ffi: Vec<TokenStream> = m.params.iter().map(|(_, _, p)| p.ffi()).collect();
    let ret_ffi = m.ret.ffi();
    quote! {
        unsafe impl #pb::MethodSpec for m::#ident {
            type Interface = dyn #trait_ident;
            type Args = #pb::#args_ty<#(#param_ffi),*>;
            type Ret = #ret_ffi;
            const INDEX: usize = #index;
            const NAME: &'static str = #name;
            const SINCE: ::core::option::Option<&'static str> = #since;
            const EXCLUSIVE: bool = #exclusive;
        }
    }
}

/// The checks that the types crossing as themselves are `StableAbi`.
fn checks(m: &Method) -> Vec<TokenStream> {
    let mut as_is = Vec::new();
    for (_, _, p) in &m.params {
        p.as_is_types(&mut as_is);
    }
    m.ret.as_is_types(&mut as_is);
    as_is.iter().map(check_crosses).collect()
}

/// Plugin side: how any `T: Trait` runs the method (`implement` is
/// `Implement` or `ImplementMut`).
fn plugin_side(
    m: &Method,
    trait_ident: &Ident,
    implement: &TokenStream,
    arg_names: &[Ident],
) -> TokenStream {
    let pb = quote!(::plugboard_interface::__private);
    let pi = quote!(::plugboard_interface);
    let ident = &m.ident;
    let raised = m
        .params
        .iter()
        .zip(arg_names)
        .map(|((_, _, p), a)| p.raise(quote!(#a)));
    let passed: Vec<TokenStream> = m
        .params
        .iter()
        .zip(arg_names)
        .map(|((_, _, p), a)| p.pass(quote!(#a)))
        .collect();
    let lowered_ok = m.ret.lower(quote!(value));
    let body = if m.fallible {
        quote!(ret.map(|value| #lowered_ok))
    } else {
        let lowered = m.ret.lower(quote!(ret));
        quote!(::core::result::Result::Ok(#lowered))
    };
    let this_ty = if m.exclusive {
        quote!(&mut T)
    } else {
        quote!(&T)
    };
    quote! {
        impl<T: #trait_ident> #pb::#implement<T> for m::#ident {
            #[inline(always)]
            fn run(
                this: #this_ty,
                args: <Self::Args as #pb::FfiValue>::View<'_>,
            ) -> ::core::result::Result<Self::Ret, #pi::PluginError> {
                let (#(#arg_names,)*) = args;
                #(let #arg_names = #raised;)*
                let ret = <T as #trait_ident>::#ident(this, #(#passed),*);
                #body
            }
        }
    }
}

/// The method's slot in a vtable for values of type `for_type`.
fn slot(m: &Method, for_type: TokenStream) -> TokenStream {
    let pb = quote!(::plugboard_interface::__private);
    let ident = &m.ident;
    if m.exclusive {
        quote!(#pb::slot_mut::<#for_type, m::#ident>())
    } else {
        quote!(#pb::slot::<#for_type, m::#ident>())
    }
}

/// Host side: the handle's method, which lowers the arguments, calls
/// through the vtable and raises the result; and the handle's
/// implementation of the trait's method, which calls it.
fn host_side(m: &Method, item: &ItemTrait, arg_names: &[Ident]) -> (TokenStream, TokenStream) {
    let pb = quote!(::plugboard_interface::__private);
    let ident = &m.ident;
    let name = ident.to_string();
    let args_ty = format_ident!("Args{}", m.params.len());
    let receiver = if m.exclusive {
        quote!(&mut self)
    } else {
        quote!(&self)
    };
    let call = if m.exclusive {
        quote!(call_mut)
    } else {
        quote!(call)
    };
    let typed_params: Vec<TokenStream> = m
        .params
        .iter()
        .zip(arg_names)
        .map(|((_, ty, _), a)| quote!(#a: #ty))
        .collect();
    let lowered_args = m
        .params
        .iter()
        .zip(arg_names)
        .map(|((_, _, p), a)| p.lower(quote!(#a)));
    let output = match &item.items[m.index] {
        TraitItem::Fn(f) => f.sig.output.clone(),
        _ => unreachable!("methods are the trait's items"),
    };
    let raised_ret = m.ret.raise(quote!(value));
    let outcome = if m.fallible {
        quote! {
            match result {
                ::core::result::Result::Ok(value) => ::core::result::Result::Ok(#raised_ret),
                ::core::result::Result::Err(error) => ::core::result::Result::Err(self.meta.explain(error)),
            }
        }
    } else {
        quote! {
            match result {
                ::core::result::Result::Ok(value) => #raised_ret,
                ::core::result::Result::Err(error) => self.meta.resume(#name, error),
            }
        }
    };
    let docs = &m.docs;
    let handle_method = quote! {
        #(#docs)*
        #[inline]
        pub fn #ident(#receiver, #(#typed_params),*) #output {
            let result = self.obj.#call::<m::#ident>(#pb::#args_ty(#(#lowered_args),*));
            #outcome
        }
    };
    let trait_method = quote! {
        #[inline]
        fn #ident(#receiver, #(#typed_params),*) #output {
            Handle::#ident(self, #(#arg_names),*)
        }
    };
    (handle_method, trait_method)
}

/// The method's entry in the method table.
fn info(m: &Method) -> TokenStream {
    let pb = quote!(::plugboard_interface::__private);
    let pi = quote!(::plugboard_interface);
    let st = quote!(::plugboard_interface::__private::abi_stable::std_types);
    let ident = &m.ident;
    let name = ident.to_string();
    let since_text = m.since.clone().unwrap_or_default();
    let exclusive = m.exclusive;
    let signature = &m.signature;
    let param_names = m.params.iter().map(|(n, _, _)| n);
    let param_types = m.params.iter().map(|(_, t, _)| render(t));
    let ret_type = render(&m.ret_written);
    let fallible = m.fallible;
    quote! {
        #pi::MethodInfo {
            name: #st::RStr::from_str(#name),
            since: #st::RStr::from_str(#since_text),
            signature: #st::RStr::from_str(#signature),
            arg_names: #st::RSlice::from_slice(&[#(#st::RStr::from_str(#param_names)),*]),
            arg_types: #st::RSlice::from_slice(&[#(#st::RStr::from_str(#param_types)),*]),
            ret_type: #st::RStr::from_str(#ret_type),
            fallible: #fallible,
            exclusive: #exclusive,
            layout: <m::#ident as #pb::MethodSpec>::LAYOUT,
        }
    }
}

/// Calls as data: the method's arm in `PluginInterface::invoke` (read the
/// arguments, call the handle, write the result) and in `serializable`
/// (whether its arguments and result can travel).
fn as_data(m: &Method, arg_names: &[Ident]) -> (TokenStream, TokenStream) {
    let pb = quote!(::plugboard_interface::__private);
    let pi = quote!(::plugboard_interface);
    let ident = &m.ident;
    let name = ident.to_string();
    let index = m.index;
    let owned_args: Vec<TokenStream> = m.params.iter().map(|(_, ty, p)| p.owned(ty)).collect();
    let passed_owned = m
        .params
        .iter()
        .zip(arg_names)
        .map(|((_, _, p), a)| p.pass_owned(quote!(#a)));
    let (ret_owned, to_owned) = m.ret.owned(&m.ret_written, quote!(value));
    let read = if m.params.is_empty() {
        quote!()
    } else {
        quote! {
            let (#(#arg_names,)*): (#(#owned_args,)*) =
                (&&#pb::Probe::<(#(#owned_args,)*)>::new()).read(#name, args)?;
        }
    };
    let write = quote! {
        (&&#pb::Probe::<#ret_owned>::new()).write(&#to_owned, out)
    };
    let finish = if m.fallible {
        quote! {
            match ret {
                ::core::result::Result::Ok(value) => #write,
                ::core::result::Result::Err(error) => ::core::result::Result::Err(#pi::InvokeError::Failed(error)),
            }
        }
    } else {
        quote! { let value = ret; #write }
    };
    let invoke = quote! {
        #index => {
            #read
            let ret = handle.#ident(#(#passed_owned),*);
            #finish
        }
    };
    let args_travel = quote!((&&#pb::Probe::<(#(#owned_args,)*)>::new()).travels());
    // A borrowed result (`&str`, `&[T]`) is copied into its owned form
    // before it is written, so it travels like that form.
    let ret_travels = quote!((&&#pb::Probe::<#ret_owned>::new()).travels());
    let index_u32 = index as u32;
    let travels = quote!(#index_u32 => #args_travel && #ret_travels,);
    (invoke, travels)
}
