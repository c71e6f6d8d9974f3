struct Guard;

impl Guard {
    #[kotori::hook]
    fn check(&self) -> Result<(), kotori::Rejection> {
        Ok(())
    }
}

fn main() {}
