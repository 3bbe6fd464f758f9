use plugboard_interface::interface;

#[interface(version = "1.0.0")]
pub trait Parser: Send + Sync {
    fn parse(&self, text: &str) -> Result<u64, String>;
}

fn main() {}
