use plugboard_interface::{interface, PluginError};

/// An application type without `#[derive(StableAbi)]`.
pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[interface(version = "1.0.0")]
pub trait Plotter: Send + Sync {
    fn plot(&self, point: Point) -> Result<(), PluginError>;
}

fn main() {}
