//! `kassa sign …`, `kassa verify …`, `kassa keygen`: the signing crate on the
//! command line. Every `verify` exits 0 when valid, 1 when invalid (reason on
//! stderr), 2 on a usage or input error. Secrets come from files or
//! environment variables, never from arguments.

use clap::{Args, Subcommand};
use kassa_sign::order_details::{self, RsaPrivateKey, RsaPublicKey, SigEncoding};
use kassa_sign::{ResponseKey, SignError, paytm, razorpay, return_url};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `kassa sign …`
#[derive(Subcommand)]
pub(crate) enum SignCommand {
    /// Sign a return-URL query (`order_id=…&status=…&status_id=…`); prints it with
    /// `signature` and `signature_algorithm` added, as it travels on the wire.
    ReturnUrl {
        #[command(flatten)]
        key: ResponseKeyArg,
        /// The query string.
        query: String,
    },
    /// Sign a Process SDK `orderDetails` JSON string (RSA-SHA256); prints the signature.
    OrderDetails {
        /// PEM private key (PKCS#1 or PKCS#8).
        #[arg(long)]
        private_key: PathBuf,
        /// Print hex instead of base64.
        #[arg(long)]
        hex: bool,
        /// The exact JSON string.
        json: String,
    },
    /// Razorpay payment signature of ORDER_ID|PAYMENT_ID (hex).
    Razorpay {
        #[command(flatten)]
        secret: RazorpaySecretArg,
        /// Razorpay order id.
        order_id: String,
        /// Razorpay payment id.
        payment_id: String,
    },
    /// Paytm `head.signature` checksum of a body string or a form's values.
    Paytm {
        #[command(flatten)]
        key: PaytmKeyArg,
        #[command(flatten)]
        data: PaytmData,
    },
}

/// `kassa verify …`
#[derive(Subcommand)]
pub(crate) enum VerifyCommand {
    /// Verify a return-URL query as it arrived on the wire.
    ReturnUrl {
        #[command(flatten)]
        key: ResponseKeyArg,
        /// The query string.
        query: String,
    },
    /// Verify an `orderDetails` signature (base64 or hex).
    OrderDetails {
        /// PEM public key (SPKI or PKCS#1).
        #[arg(long)]
        public_key: PathBuf,
        /// The signature.
        #[arg(long)]
        signature: String,
        /// The exact JSON string.
        json: String,
    },
    /// Verify a Razorpay payment signature.
    Razorpay {
        #[command(flatten)]
        secret: RazorpaySecretArg,
        /// The `razorpay_signature`.
        #[arg(long)]
        signature: String,
        /// Razorpay order id.
        order_id: String,
        /// Razorpay payment id.
        payment_id: String,
    },
    /// Verify a Razorpay webhook signature over a body file's raw bytes.
    RazorpayWebhook {
        #[command(flatten)]
        secret: RazorpaySecretArg,
        /// The `X-Razorpay-Signature` header.
        #[arg(long)]
        signature: String,
        /// File holding the raw body.
        body_file: PathBuf,
    },
    /// Verify a Paytm checksum.
    Paytm {
        #[command(flatten)]
        key: PaytmKeyArg,
        /// The checksum (`head.signature` or `CHECKSUMHASH`).
        #[arg(long)]
        checksum: String,
        #[command(flatten)]
        data: PaytmData,
    },
}

/// The response key.
#[derive(Args)]
pub(crate) struct ResponseKeyArg {
    /// File holding the merchant's response key (or set KASSA_RESPONSE_KEY).
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// The Razorpay secret.
#[derive(Args)]
pub(crate) struct RazorpaySecretArg {
    /// File holding the key secret or webhook secret (or set RAZORPAY_SECRET).
    #[arg(long)]
    secret_file: Option<PathBuf>,
}

/// The Paytm merchant key.
#[derive(Args)]
pub(crate) struct PaytmKeyArg {
    /// File holding the merchant key (or set PAYTM_MERCHANT_KEY).
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// A Paytm body string, or a form whose values are signed sorted by key.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub(crate) struct PaytmData {
    /// The request body exactly as sent.
    body: Option<String>,
    /// `K=V&…` form; the values are joined with `|` in key order.
    #[arg(long)]
    form: Option<String>,
}

/// A failure with its exit status.
enum Fail {
    /// Exit 1: readable input, invalid signature.
    Invalid(String),
    /// Exit 2: usage or input error.
    Input(String),
}

fn secret(file: Option<&Path>, env: &str, what: &str) -> Result<String, Fail> {
    match file {
        Some(f) => std::fs::read_to_string(f).map_err(|e| Fail::Input(format!("cannot read {what} file {}: {e}", f.display()))),
        None => std::env::var(env).map_err(|_| Fail::Input(format!("give --{}-file or set {env}", what.replace(' ', "-")))),
    }
}

fn read(path: &Path, what: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail::Input(format!("cannot read {what} {}: {e}", path.display())))
}

fn invalid_or_input(e: SignError) -> Fail {
    match e {
        SignError::Mismatch | SignError::Stale | SignError::BadEncoding(_) => Fail::Invalid(e.to_string()),
        SignError::BadKey(_) | SignError::BadInput(_) => Fail::Input(e.to_string()),
    }
}

fn paytm_string(data: &PaytmData) -> Result<String, Fail> {
    match (&data.body, &data.form) {
        (Some(b), None) => Ok(b.clone()),
        (None, Some(f)) => {
            let pairs = return_url::Params::parse_query(f).map_err(|e| Fail::Input(format!("--form: {e}")))?;
            let pairs: Vec<(&str, &str)> = pairs.iter().collect();
            Ok(paytm::string_from_params(&pairs))
        }
        _ => Err(Fail::Input("give BODY or --form".into())),
    }
}

fn finish(r: Result<Option<String>, Fail>) -> ExitCode {
    match r {
        Ok(Some(out)) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("valid");
            ExitCode::SUCCESS
        }
        Err(Fail::Invalid(why)) => {
            eprintln!("invalid: {why}");
            ExitCode::from(1)
        }
        Err(Fail::Input(why)) => {
            eprintln!("kassa: {why}");
            ExitCode::from(2)
        }
    }
}

/// Runs `kassa sign …`.
pub(crate) fn sign(cmd: SignCommand) -> ExitCode {
    finish(sign_inner(cmd).map(Some))
}

fn sign_inner(cmd: SignCommand) -> Result<String, Fail> {
    match cmd {
        SignCommand::ReturnUrl { key, query } => {
            let k = ResponseKey::from_file_contents(&secret(key.key_file.as_deref(), "KASSA_RESPONSE_KEY", "key")?);
            return_url::sign_query(&k, &query).map_err(|e| Fail::Input(e.to_string()))
        }
        SignCommand::OrderDetails { private_key, hex, json } => {
            let k = RsaPrivateKey::from_pem(&read(&private_key, "private key")?).map_err(invalid_or_input)?;
            serde_json::from_str::<serde_json::Value>(&json).map_err(|_| Fail::Input("JSON is not valid JSON".into()))?;
            let enc = if hex { SigEncoding::Hex } else { SigEncoding::Base64 };
            order_details::sign(&k, &json, enc).map_err(invalid_or_input)
        }
        SignCommand::Razorpay { secret: s, order_id, payment_id } => {
            let k = razorpay::Secret::from_file_contents(&secret(s.secret_file.as_deref(), "RAZORPAY_SECRET", "secret")?);
            Ok(razorpay::payment_signature(&k, &order_id, &payment_id))
        }
        SignCommand::Paytm { key, data } => {
            let k = paytm::MerchantKey::from_file_contents(&secret(key.key_file.as_deref(), "PAYTM_MERCHANT_KEY", "key")?)
                .map_err(invalid_or_input)?;
            paytm::generate(&k, &paytm_string(&data)?).map_err(invalid_or_input)
        }
    }
}

/// Runs `kassa verify …`.
pub(crate) fn verify(cmd: VerifyCommand) -> ExitCode {
    finish(verify_inner(cmd).map(|()| None))
}

fn verify_inner(cmd: VerifyCommand) -> Result<(), Fail> {
    match cmd {
        VerifyCommand::ReturnUrl { key, query } => {
            let k = ResponseKey::from_file_contents(&secret(key.key_file.as_deref(), "KASSA_RESPONSE_KEY", "key")?);
            return_url::verify_query(&k, &query)
                .map(|_| ())
                .map_err(|e| if e.is_invalid_signature() { Fail::Invalid(e.to_string()) } else { Fail::Input(e.to_string()) })
        }
        VerifyCommand::OrderDetails { public_key, signature, json } => {
            let k = RsaPublicKey::from_pem(&read(&public_key, "public key")?).map_err(invalid_or_input)?;
            order_details::verify(&k, &json, &signature).map_err(invalid_or_input)
        }
        VerifyCommand::Razorpay { secret: s, signature, order_id, payment_id } => {
            let k = razorpay::Secret::from_file_contents(&secret(s.secret_file.as_deref(), "RAZORPAY_SECRET", "secret")?);
            razorpay::verify_payment(&k, &order_id, &payment_id, &signature).map_err(invalid_or_input)
        }
        VerifyCommand::RazorpayWebhook { secret: s, signature, body_file } => {
            let k = razorpay::Secret::from_file_contents(&secret(s.secret_file.as_deref(), "RAZORPAY_SECRET", "secret")?);
            let body = std::fs::read(&body_file).map_err(|e| Fail::Input(format!("cannot read {}: {e}", body_file.display())))?;
            razorpay::verify_webhook(&k, &body, &signature).map_err(invalid_or_input)
        }
        VerifyCommand::Paytm { key, checksum, data } => {
            let k = paytm::MerchantKey::from_file_contents(&secret(key.key_file.as_deref(), "PAYTM_MERCHANT_KEY", "key")?)
                .map_err(invalid_or_input)?;
            paytm::verify(&k, &paytm_string(&data)?, &checksum).map_err(|_| Fail::Invalid("checksum does not match".into()))
        }
    }
}

/// Runs `kassa keygen --out DIR`: writes `private_key.pem` (mode 0600) and `public_key.pem`.
pub(crate) fn keygen(out: &Path) -> ExitCode {
    let run = || -> Result<String, Fail> {
        std::fs::create_dir_all(out).map_err(|e| Fail::Input(format!("cannot create {}: {e}", out.display())))?;
        let private = out.join("private_key.pem");
        let public = out.join("public_key.pem");
        if private.exists() {
            return Err(Fail::Input(format!("{} exists; not overwriting a key", private.display())));
        }
        let (priv_pem, pub_pem) = order_details::generate_key_pair().map_err(invalid_or_input)?;
        write_private(&private, priv_pem.as_bytes()).map_err(|e| Fail::Input(format!("cannot write {}: {e}", private.display())))?;
        std::fs::write(&public, pub_pem).map_err(|e| Fail::Input(format!("cannot write {}: {e}", public.display())))?;
        Ok(format!("wrote {} and {}", private.display(), public.display()))
    };
    finish(run().map(Some))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
