//! Values as they cross the boundary: [`FfiValue`] (what a value is on the
//! other side), the value forms ([`Own`], [`FfiStr`], [`FfiSlice`]) and the
//! packed arguments of a method ([`Args0`] ... [`Args8`]).

use abi_stable::StableAbi;

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
