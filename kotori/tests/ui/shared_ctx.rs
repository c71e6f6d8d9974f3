#[kotori::guard]
async fn check(cx: &kotori::Ctx<()>) -> Result<(), kotori::Rejection> {
    let _ = cx;
    Ok(())
}

fn main() {}
