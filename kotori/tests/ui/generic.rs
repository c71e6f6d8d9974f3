#[kotori::guard]
fn check<S>(cx: &mut kotori::Ctx<S>) -> Result<(), kotori::Rejection> {
    let _ = cx;
    Ok(())
}

fn main() {}
