//! The object model of `#[interface]` traits: what crosses the plugin boundary.
//!
//! A plugin object is a [`RawObject`]: a pointer to the plugin's value and a
//! pointer to a vtable made in the plugin for the value's type. The vtable
//! starts with a [`VTableHeader`] (how many methods follow, the destructor,
//! the interface's [`MethodTable`]) and goes on with one function pointer per
//! method, in the interface's declaration order. Every method has one shape,
//! [`Method`] (or [`MethodMut`] for `&mut self`):
//! `unsafe extern "C" fn(this, args, &mut CallStatus) -> ROption<Ret>`, its
//! arguments packed in one `#[repr(C)]` value ([`Args1`] ... [`Args8`]).
//!
//! All these types are defined here, once, so the crate that declares an
//! interface needs no `abi_stable` of its own: `#[interface]` only names them.
//! The layout of every method's type is an `abi_stable` layout, recorded in
//! the interface's [`MethodTable`]; a host checks each against its own before
//! it makes any call (see `plugboard-host`'s dispense step).
//!
//! This is the one module of this crate where calls through erased pointers
//! happen: the plugin-side shims (which recover the value and the borrowed
//! arguments) and the host-side [`Checked::call`] (which recovers a method's
//! type from its index).

use std::{
    ffi::c_void,
    marker::PhantomData,
    panic::{catch_unwind, AssertUnwindSafe},
};

use abi_stable::{
    std_types::{ROption, RSlice, RStr, RVec},
    type_layout::TypeLayout,
    StableAbi,
};

use crate::{call::CallStatus, PluginError, PluginInterface};

/// A method pointer with its type erased (each slot of a vtable).
pub(crate) type ErasedFn = unsafe extern "C" fn();

/// The function type of a `&self` method with packed arguments `A` and
/// result `R` (the field of [`Method`]).
type SharedFn<A, R> = unsafe extern "C" fn(*const c_void, A, &mut CallStatus) -> ROption<R>;

/// The function type of a `&mut self` method (the field of [`MethodMut`]).
type ExclusiveFn<A, R> = unsafe extern "C" fn(*mut c_void, A, &mut CallStatus) -> ROption<R>;

/// The type of a `&self` method: the object's value, the packed arguments
/// and the call status in, the result (`RNone` on failure) out.
#[repr(transparent)]
#[derive(StableAbi)]
pub struct Method<Args, Ret> {
    call: unsafe extern "C" fn(
        this: *const c_void,
        args: Args,
        status: &mut CallStatus,
    ) -> ROption<Ret>,
}

/// The type of a `&mut self` method (see [`Method`]).
#[repr(transparent)]
#[derive(StableAbi)]
pub struct MethodMut<Args, Ret> {
    call: unsafe extern "C" fn(
        this: *mut c_void,
        args: Args,
        status: &mut CallStatus,
    ) -> ROption<Ret>,
}

macro_rules! declare_args {
    ($($name:ident [$($param:ident . $index:tt),*])*) => {$(
        /// Packed method arguments: one `#[repr(C)]` value, passed by value.
        #[repr(C)]
        #[derive(StableAbi)]
        pub struct $name<$($param),*>($(pub $param),*);

        // SAFETY: each element's `view` is called once, under the caller's
        // promise for the whole value.
        unsafe impl<$($param: FfiValue),*> FfiValue for $name<$($param),*> {
            type View<'a> = ($($param::View<'a>,)*) where Self: 'a;

            #[inline(always)]
            #[allow(unused_unsafe, clippy::unused_unit)]
            unsafe fn view<'a>(self) -> Self::View<'a>
            where
                Self: 'a,
            {
                // SAFETY: forwarded from the caller (see `FfiValue::view`).
                unsafe { ($(self.$index.view(),)*) }
            }
        }
    )*};
}

declare_args! {
    Args0 []
    Args1 [A.0]
    Args2 [A.0, B.1]
    Args3 [A.0, B.1, C.2]
    Args4 [A.0, B.1, C.2, D.3]
    Args5 [A.0, B.1, C.2, D.3, E.4]
    Args6 [A.0, B.1, C.2, D.3, E.4, F.5]
    Args7 [A.0, B.1, C.2, D.3, E.4, F.5, G.6]
    Args8 [A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7]
}

/// A value as it crosses the boundary, and what it is on the other side.
///
/// # Safety
///
/// `view` may only be called on a value that crossed the boundary from a
/// caller that keeps what it borrows alive for `'a` (the length of a call,
/// or of the borrow of the object a method returned it from).
pub unsafe trait FfiValue: Sized {
    /// The value seen from plain Rust.
    type View<'a>
    where
        Self: 'a;

    /// The value seen from plain Rust.
    ///
    /// # Safety
    ///
    /// See the trait: the value must have crossed the boundary from a side
    /// that keeps what it points to alive for `'a`.
    unsafe fn view<'a>(self) -> Self::View<'a>
    where
        Self: 'a;
}

/// A value that crosses as itself (an integer, an `RString`, a
/// `#[derive(StableAbi)]` type ...).
#[repr(transparent)]
#[derive(StableAbi)]
pub struct Own<T>(pub T);

// SAFETY: an owned value borrows nothing.
unsafe impl<T> FfiValue for Own<T> {
    type View<'a>
        = T
    where
        T: 'a;

    #[inline(always)]
    unsafe fn view<'a>(self) -> T
    where
        Self: 'a,
    {
        self.0
    }
}

/// A borrowed `&str`, without its lifetime (which the method's caller keeps).
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct FfiStr {
    ptr: *const u8,
    len: usize,
}

impl FfiStr {
    /// Borrows `s` for the length of a call.
    #[inline(always)]
    pub fn new(s: &str) -> Self {
        Self {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
}

// SAFETY: the caller promises the text lives for `'a` (the trait's rule); it
// was made from a `&str`, so it is UTF-8.
unsafe impl FfiValue for FfiStr {
    type View<'a> = &'a str;

    #[inline(always)]
    unsafe fn view<'a>(self) -> &'a str
    where
        Self: 'a,
    {
        // SAFETY: `ptr`/`len` come from a `&str` that the caller keeps alive
        // for `'a` (the trait's contract).
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(self.ptr, self.len)) }
    }
}

/// A borrowed `&[T]`, without its lifetime (which the method's caller keeps).
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiSlice<T> {
    ptr: *const T,
    len: usize,
}

impl<T> FfiSlice<T> {
    /// Borrows `s` for the length of a call.
    #[inline(always)]
    pub fn new(s: &[T]) -> Self {
        Self {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }
}

// SAFETY: the caller promises the slice lives for `'a` (the trait's rule).
unsafe impl<T> FfiValue for FfiSlice<T> {
    type View<'a>
        = &'a [T]
    where
        T: 'a;

    #[inline(always)]
    unsafe fn view<'a>(self) -> &'a [T]
    where
        Self: 'a,
    {
        // SAFETY: `ptr`/`len` come from a `&[T]` that the caller keeps alive
        // for `'a` (the trait's contract).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Thread-safety markers: part of an object's layout, so a host never uses a
/// plugin object with less thread-safety than its interface promises.
pub mod threads {
    use abi_stable::StableAbi;

    /// The interface requires `Send + Sync`.
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct SendSync;
    /// The interface requires `Send`, not `Sync`.
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct SendOnly;
    /// The interface requires neither.
    #[repr(C)]
    #[derive(StableAbi)]
    pub struct Local;

    /// Values of type `T` may be held by an object with this marker.
    pub trait Admits<T> {}
    impl<T: Send + Sync> Admits<T> for SendSync {}
    impl<T: Send> Admits<T> for SendOnly {}
    impl<T> Admits<T> for Local {}
}

/// The start of every `#[interface]` vtable; the method pointers follow it.
#[repr(C)]
#[derive(StableAbi)]
pub(crate) struct VTableHeader {
    /// How many method pointers follow (the plugin's interface version decides).
    len: u32,
    /// Drops the value, inside the library that made it.
    drop: unsafe extern "C" fn(data: *mut c_void),
    /// The method table of the interface the vtable was made for.
    methods: &'static MethodTable,
}

/// A vtable for values of type `T`: the header, then `N` methods.
#[repr(C)]
pub struct VTable<T, const N: usize> {
    header: VTableHeader,
    fns: [ErasedFn; N],
    _for: PhantomData<fn(T)>,
}

/// One method pointer of a [`VTable`] for `T`, made by [`slot`] or [`slot_mut`].
pub struct Slot<T> {
    f: ErasedFn,
    index: usize,
    _for: PhantomData<fn(T)>,
}

impl<T, const N: usize> VTable<T, N> {
    /// A vtable for `T` with the interface's method table and one slot per
    /// method, in index order (checked at compile time).
    pub const fn new(methods: &'static MethodTable, slots: [Slot<T>; N]) -> Self {
        let mut fns: [ErasedFn; N] = [no_method; N];
        let mut i = 0;
        while i < N {
            assert!(slots[i].index == i, "vtable slots must be in method order");
            fns[i] = slots[i].f;
            i += 1;
        }
        Self {
            header: VTableHeader {
                len: N as u32,
                drop: drop_box::<T>,
                methods,
            },
            fns,
            _for: PhantomData,
        }
    }
}

/// A placeholder while a vtable is being filled (never called).
unsafe extern "C" fn no_method() {}

/// How `T` implements the `&self` method `Self` (generated by `#[interface]`).
pub trait Implement<T>: MethodSpec {
    /// Runs the method on `this` with plain-Rust arguments.
    fn run(this: &T, args: <Self::Args as FfiValue>::View<'_>) -> Result<Self::Ret, PluginError>;
}

/// How `T` implements the `&mut self` method `Self` (generated by `#[interface]`).
pub trait ImplementMut<T>: MethodSpec {
    /// Runs the method on `this` with plain-Rust arguments.
    fn run(
        this: &mut T,
        args: <Self::Args as FfiValue>::View<'_>,
    ) -> Result<Self::Ret, PluginError>;
}

/// The slot of `&self` method `M` for values of type `T`.
pub const fn slot<T, M: Implement<T>>() -> Slot<T> {
    let f: SharedFn<M::Args, M::Ret> = shim::<T, M>;
    Slot {
        // SAFETY: only a pointer's type changes; `Checked::call` turns it back
        // into exactly this type (`M`'s index and types) before calling it.
        f: unsafe { std::mem::transmute::<SharedFn<M::Args, M::Ret>, ErasedFn>(f) },
        index: M::INDEX,
        _for: PhantomData,
    }
}

/// The slot of `&mut self` method `M` for values of type `T`.
pub const fn slot_mut<T, M: ImplementMut<T>>() -> Slot<T> {
    let f: ExclusiveFn<M::Args, M::Ret> = shim_mut::<T, M>;
    Slot {
        // SAFETY: as in `slot`.
        f: unsafe { std::mem::transmute::<ExclusiveFn<M::Args, M::Ret>, ErasedFn>(f) },
        index: M::INDEX,
        _for: PhantomData,
    }
}

/// The plugin side of a `&self` call: recovers the value and the arguments,
/// runs the method under the panic guard, reports through `status`.
unsafe extern "C" fn shim<T, M: Implement<T>>(
    this: *const c_void,
    args: M::Args,
    status: &mut CallStatus,
) -> ROption<M::Ret> {
    // SAFETY: `this` is the `data` of a `RawObject` whose vtable was made for
    // `T` (`RawObject::new`), so it points to a live `T`; shared access
    // matches a `&self` method. The arguments were lowered by the caller from
    // borrows it holds for the length of this call.
    let (this, args) = unsafe { (&*this.cast::<T>(), args.view()) };
    crate::guard::call(status, || M::run(this, args))
}

/// The plugin side of a `&mut self` call (see [`shim`]).
unsafe extern "C" fn shim_mut<T, M: ImplementMut<T>>(
    this: *mut c_void,
    args: M::Args,
    status: &mut CallStatus,
) -> ROption<M::Ret> {
    // SAFETY: as in `shim`; the caller holds the object exclusively (a
    // `&mut self` method is only reachable through `&mut Checked`).
    let (this, args) = unsafe { (&mut *this.cast::<T>(), args.view()) };
    crate::guard::call(status, || M::run(this, args))
}

/// Drops a boxed `T`, catching a panic of its destructor (it is logged by the
/// plugin's panic hook; the value's memory is freed either way).
unsafe extern "C" fn drop_box<T>(data: *mut c_void) {
    // SAFETY: `data` came from `Box::into_raw` of a `Box<T>` in
    // `RawObject::new`, and each object is dropped once.
    let boxed = unsafe { Box::from_raw(data.cast::<T>()) };
    if catch_unwind(AssertUnwindSafe(move || drop(boxed))).is_err() {
        crate::guard::poison();
    }
}

/// A plugin object as it crosses the boundary: the value and its vtable.
///
/// `M` is the thread-safety marker of the interface ([`threads`]). Dropping it
/// drops the value inside the library that made it.
#[repr(C)]
#[derive(StableAbi)]
pub struct RawObject<M> {
    data: *mut c_void,
    vtable: *const VTableHeader,
    _threads: PhantomData<M>,
}

// SAFETY: `RawObject::new` admits only `Send + Sync` values under `SendSync`.
unsafe impl Send for RawObject<threads::SendSync> {}
// SAFETY: as above.
unsafe impl Sync for RawObject<threads::SendSync> {}
// SAFETY: `RawObject::new` admits only `Send` values under `SendOnly`.
unsafe impl Send for RawObject<threads::SendOnly> {}

impl<M> RawObject<M> {
    /// Boxes `value` with its vtable.
    pub fn new<T, const N: usize>(value: T, vtable: &'static VTable<T, N>) -> Self
    where
        M: threads::Admits<T>,
    {
        Self {
            data: Box::into_raw(Box::new(value)).cast(),
            vtable: &vtable.header,
            _threads: PhantomData,
        }
    }

    fn header(&self) -> &VTableHeader {
        // SAFETY: `vtable` points to the header of a `'static` vtable
        // (`RawObject::new`).
        unsafe { &*self.vtable }
    }

    /// The method table of the interface the object's vtable was made for.
    pub fn methods(&self) -> &'static MethodTable {
        self.header().methods
    }

    /// How many methods the object's vtable has.
    pub fn method_count(&self) -> usize {
        self.header().len as usize
    }

    /// The same object with the thread-safety marker of a thread-bound one
    /// (`threads::Local`): every `RawObject` has one layout and one
    /// destructor, whatever its marker.
    pub(crate) fn into_local(self) -> RawObject<threads::Local> {
        let this = std::mem::ManuallyDrop::new(self);
        RawObject {
            data: this.data,
            vtable: this.vtable,
            _threads: PhantomData,
        }
    }
}

impl<M> Drop for RawObject<M> {
    fn drop(&mut self) {
        let drop = self.header().drop;
        // SAFETY: `data` and the destructor come from the same
        // `RawObject::new`, and `drop` runs once.
        unsafe { drop(self.data) }
    }
}

/// A method of interface `Interface` (a marker type generated by
/// `#[interface]` for each method).
///
/// # Safety
///
/// `Interface::METHODS.methods[INDEX]` describes this method with the layout
/// of [`Method`]`<Args, Ret>` (or [`MethodMut`] when `EXCLUSIVE`), and every
/// vtable made for `Interface` has at `INDEX` a slot made from this type
/// ([`slot`] / [`slot_mut`]). `#[interface]` builds all three from this one
/// type, so they agree.
pub unsafe trait MethodSpec: 'static {
    /// The interface (`dyn Trait`).
    type Interface: ?Sized + PluginInterface;
    /// The packed arguments ([`Args0`] ... [`Args8`] of [`Own`], [`FfiStr`], [`FfiSlice`]).
    type Args: FfiValue + StableAbi;
    /// The result as it crosses.
    type Ret: FfiValue + StableAbi;
    /// The method's position in the interface.
    const INDEX: usize;
    /// The method's name.
    const NAME: &'static str;
    /// The interface version that added the method (`None` for the methods
    /// of the first release of the major version).
    const SINCE: Option<&'static str>;
    /// Whether it takes `&mut self`.
    const EXCLUSIVE: bool;

    /// The layout of the method's type.
    const LAYOUT: &'static TypeLayout = if Self::EXCLUSIVE {
        <MethodMut<Self::Args, Self::Ret> as StableAbi>::LAYOUT
    } else {
        <Method<Self::Args, Self::Ret> as StableAbi>::LAYOUT
    };
}

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

/// What an interface's method looks like, for hosts, tools and the
/// compatibility check.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct MethodInfo {
    /// The method's name.
    pub name: RStr<'static>,
    /// The interface version that added it; empty for the methods of the
    /// first release of the major version.
    pub since: RStr<'static>,
    /// Its signature as declared, e.g.
    /// `fn transform(&self, input: &str) -> Result<String, PluginError>`.
    pub signature: RStr<'static>,
    /// The argument names.
    pub arg_names: RSlice<'static, RStr<'static>>,
    /// The argument types as declared.
    pub arg_types: RSlice<'static, RStr<'static>>,
    /// The result type as declared (`()` for none).
    pub ret_type: RStr<'static>,
    /// Whether it returns `Result<_, PluginError>`.
    pub fallible: bool,
    /// Whether it takes `&mut self`.
    pub exclusive: bool,
    /// The `abi_stable` layout of its [`Method`] / [`MethodMut`] type.
    pub layout: &'static TypeLayout,
}

impl MethodInfo {
    /// The `since` version, if the method came after the first release.
    pub fn since(&self) -> Option<&'static str> {
        let since: &'static str = self.since.as_str();
        (!since.is_empty()).then_some(since)
    }
}

/// Runs one serialized call on an object of an interface: the method's
/// arguments in, its result out, both as `postcard` bytes. `RSome` carries
/// the plugin's error (for a method without `Result`, a panic or a refusal).
pub type InvokeFn = unsafe extern "C" fn(
    object: *mut c_void,
    method: u32,
    args: RSlice<'_, u8>,
    out: &mut RVec<u8>,
) -> ROption<PluginError>;

/// An `#[interface]` trait's methods, as data: compared by a host with its
/// own before any call, listed by tools, used for calls that travel as bytes.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct MethodTable {
    /// The interface's name.
    pub interface: RStr<'static>,
    /// The interface's version.
    pub version: RStr<'static>,
    /// The methods, in order.
    pub methods: RSlice<'static, MethodInfo>,
    /// Which methods' arguments and result can travel as bytes (for calls
    /// from the command line and isolated plugins).
    pub serializable: extern "C" fn(method: u32) -> bool,
    /// Runs a serialized call on a [`RawObject`] of this interface (the
    /// runner of isolated plugins calls it in the plugin's own code); an
    /// [`InvokeFn`], written out because the layout derive reads function
    /// types from their syntax.
    pub invoke: unsafe extern "C" fn(
        object: *mut c_void,
        method: u32,
        args: RSlice<'_, u8>,
        out: &mut RVec<u8>,
    ) -> ROption<PluginError>,
}

impl MethodTable {
    /// The method called `name`, with its index.
    pub fn method(&self, name: &str) -> Option<(usize, &'static MethodInfo)> {
        let methods: &'static [MethodInfo] = self.methods.as_slice();
        methods
            .iter()
            .enumerate()
            .find(|(_, m)| m.name.as_str() == name)
    }
}
