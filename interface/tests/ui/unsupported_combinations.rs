use plugboard_interface::{
    abi_stable::std_types::{RSlice, RStr},
    interface,
};

/// Combinations of supported types that cannot cross: each method is one
/// mistake, reported at its own span.
#[interface(version = "1.0.0")]
pub trait Combinations: Send + Sync {
    fn wide(&self) -> u128;
    fn five(&self, t: (u8, u8, u8, u8, u8));
    fn borrows_in_a_vec(&self, names: Vec<&str>);
    fn borrowed_r_type_in_an_option(&self, name: Option<RStr<'_>>);
    fn borrowed_strings(&self) -> &[String];
    fn mutable_slice(&self, bytes: &mut [u8]);
    fn r_slice_of_strings(&self, names: RSlice<'_, String>);
}

fn main() {}
