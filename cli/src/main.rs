//! `edgepay` — the merchant's signature workbench for WeChat Pay and Alipay.
//!
//! Parameters come on stdin (a JSON object, a form body, or WeChat XML,
//! detected by the first non-blank character). Exit 0 on success, 1 when a
//! signature does not verify (stdout says why), 2 on bad input or usage
//! (stderr, one line).

mod alipay_cmd;
mod fail;
mod input;
mod keys;
mod sign_type;
mod wechat_cmd;

use clap::{Parser, Subcommand};
use fail::Fail;
use std::process::ExitCode;

/// Sign, verify and explain WeChat Pay and Alipay signatures.
#[derive(Parser, Debug)]
#[command(name = "edgepay", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    provider: Provider,
}

#[derive(Subcommand, Debug)]
enum Provider {
    /// WeChat Pay (API v2 and v3), JS-SDK, legacy APP pay.
    #[command(subcommand)]
    Wechat(wechat_cmd::WechatCmd),
    /// Alipay open platform (v2 gateway and v3).
    #[command(subcommand)]
    Alipay(alipay_cmd::AlipayCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.provider {
        Provider::Wechat(cmd) => wechat_cmd::run(cmd),
        Provider::Alipay(cmd) => alipay_cmd::run(cmd),
    };
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(fail) => {
            let code = fail.exit_code();
            match fail {
                Fail::Invalid(why) => println!("{why}"),
                Fail::Usage(why) => eprintln!("edgepay: {}", why.replace('\n', " ")),
            }
            ExitCode::from(code)
        }
    }
}
