//! `#[interface]`: a plain Rust trait in, the trait plus everything the
//! plugin boundary needs out.
//!
//! For `trait Transformer` it generates, beside the trait (with `#[since]`
//! attributes removed), an anonymous `const _: () = { ... };` block (so names
//! resolve exactly as in the trait, in a module or in a function) holding:
//! one marker type per method and its `MethodSpec` (index, name, since,
//! packed argument and result types), how any `T: Transformer` runs each
//! method (`Implement`), the vtable for each `T`, the interface's
//! `MethodTable`, and `Handle`: the host's side, which implements
//! `Transformer` by calling through the vtable. Then the
//! `PluginInterface` and `Exports<T>` impls for `dyn Transformer`.
//!
//! The steps, one file each: [`args`] (the attribute's arguments),
//! [`method`] (one method parsed), [`evolution`] (the `#[since]` rules),
//! [`expand`](mod@expand) (the generated code, with each method's part from
//! [`method_code`] and a remote object's from [`remote`]).

mod args;
mod evolution;
mod expand;
mod method;
mod method_code;
mod remote;

pub(crate) use args::Args;
pub(crate) use evolution::without_since;
pub(crate) use expand::expand;
