struct Guard;

impl Guard {
    #[kotori::guard]
    fn check(&self) -> Result<(), kotori::Rejection> {
        Ok(())
    }
}

fn main() {}
