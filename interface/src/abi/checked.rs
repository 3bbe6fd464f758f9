//! The host's side of an object: [`Checked`], through which a host calls
//! the methods of an object it checked (each described by its
//! [`MethodSpec`]).

use abi_stable::std_types::ROption;

use super::{
    vtable::{ErasedFn, ExclusiveFn, SharedFn},
    FfiValue, MethodSpec, RawObject, VTable,
};
use crate::{call::CallStatus, PluginError, PluginInterface};

/// An object whose interface, version and method layouts a host checked
/// against `I`: the only way to call its methods.
pub struct Checked<I: ?Sized + PluginInterface> {
    object: I::Object,
}

impl<I: ?Sized + PluginInterface> Checked<I> {
    /// Marks `object` as checked.
    ///
    /// # Safety
    ///
    /// `object` must come from a plugin entry (or a host service) whose
    /// interface name, version and layout — for `#[interface]` traits, every
    /// method's layout in its method table — passed the host's checks against
    /// `I`, and it must be an object of that entry (for `#[interface]`
    /// objects, its vtable's method table is the one that was checked).
    pub unsafe fn new(object: I::Object) -> Self {
        Self { object }
    }

    /// The object.
    pub fn into_inner(self) -> I::Object {
        self.object
    }

    /// The object.
    pub fn get(&self) -> &I::Object {
        &self.object
    }
}

impl<I, M> Checked<I>
where
    I: ?Sized + PluginInterface<Object = RawObject<M>>,
{
    /// Calls `&self` method `S` with lowered arguments; the result, viewed
    /// as plain Rust, or the plugin's error.
    #[inline(always)]
    pub fn call<S: MethodSpec<Interface = I>>(
        &self,
        args: S::Args,
    ) -> Result<<S::Ret as FfiValue>::View<'_>, PluginError> {
        let f = self.method::<S>()?;
        // SAFETY: the object was checked against `I` (the `Checked`
        // invariant), whose method `S::INDEX` has type `Method<S::Args,
        // S::Ret>` (the `MethodSpec` contract), so the slot holds a function
        // of exactly this type.
        let f = unsafe { std::mem::transmute::<ErasedFn, SharedFn<S::Args, S::Ret>>(f) };
        let mut status = CallStatus::new();
        // SAFETY: `data` is the object's value, shared for a `&self` method;
        // the arguments borrow nothing beyond this call.
        match unsafe { f(self.object.data, args, &mut status) } {
            // SAFETY: a returned borrow points into the object, which stays
            // borrowed for the result's lifetime.
            ROption::RSome(ret) => Ok(unsafe { ret.view() }),
            ROption::RNone => Err(status.into_error()),
        }
    }

    /// Calls `&mut self` method `S` (see [`call`](Self::call)).
    #[inline(always)]
    pub fn call_mut<S: MethodSpec<Interface = I>>(
        &mut self,
        args: S::Args,
    ) -> Result<<S::Ret as FfiValue>::View<'_>, PluginError> {
        let f = self.method::<S>()?;
        // SAFETY: as in `call`, with `MethodMut`.
        let f = unsafe { std::mem::transmute::<ErasedFn, ExclusiveFn<S::Args, S::Ret>>(f) };
        let mut status = CallStatus::new();
        // SAFETY: as in `call`; `&mut self` gives exclusive access.
        match unsafe { f(self.object.data, args, &mut status) } {
            // SAFETY: as in `call`.
            ROption::RSome(ret) => Ok(unsafe { ret.view() }),
            ROption::RNone => Err(status.into_error()),
        }
    }

    /// The slot of method `S`, or `MethodMissing` when the plugin was built
    /// against a version before the method existed.
    #[inline(always)]
    fn method<S: MethodSpec<Interface = I>>(&self) -> Result<ErasedFn, PluginError> {
        let header = self.object.header();
        // Methods of the first release are always there (checked at load);
        // later ones only if the plugin's vtable is long enough.
        if S::SINCE.is_some() && header.len as usize <= S::INDEX {
            return Err(PluginError::method_missing(S::NAME));
        }
        // SAFETY: the vtable has `len` slots after its header, and
        // `S::INDEX < len`: a method of the first release exists in every
        // vtable that passed the check, a later one was just tested.
        Ok(unsafe {
            let fns = self
                .object
                .vtable
                .cast::<u8>()
                .add(std::mem::offset_of!(VTable<(), 0>, fns))
                .cast::<ErasedFn>();
            *fns.add(S::INDEX)
        })
    }
}
