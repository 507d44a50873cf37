/**
 * Credentials never reach a message: a URL typed with `user:password@host`, or carrying a token in its query
 * (`?token=…`, `&access_token=…`, a signed CDN link's `X-Amz-Signature=…`, a Hugging Face `hf_…` token), is shown
 * with those parts replaced by `***`. Every RbeeError passes its message and hint through redactUrlsInText, and code
 * that logs a URL outside an error calls redactUrl: one rule, so a new message cannot forget it.
 *
 * The edit is on the text, not a re-serialised URL: a URL without credentials comes back exactly as it was given.
 */

/** Query (or fragment) parameter names whose values are secrets: token, api_key, X-Amz-Signature, hf_token, … */
const SECRET_PARAMETER = /^(?:.*[-_.])?(?:token|key|apikey|secret|password|passwd|pwd|auth|authorization|sig|signature|credential|credentials|session|sessionid)$/i;
/** A Hugging Face access token, whatever the parameter is called. */
const HF_TOKEN_VALUE = /^hf_[A-Za-z0-9]{16,}$/;
const REDACTED = '***';

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL with its user-info and secret-looking query/fragment values replaced by `***`. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i, `$1${REDACTED}@`)
    .replace(/([?&#;])([^=&#;\s]+)=([^&#;\s]*)/g, (whole, separator: string, name: string, value: string) =>
      value !== '' && (SECRET_PARAMETER.test(decoded(name)) || HF_TOKEN_VALUE.test(decoded(value))) ? `${separator}${name}=${REDACTED}` : whole,
    );
}

/** Every absolute URL in `text` redacted (error messages quote URLs, and errors from fetch may quote them too). */
export function redactUrlsInText(text: string): string {
  if (!text.includes('://')) return text;
  // Punctuation that ends the sentence around a URL ("… ?token=x: refused", "(see https://h/x).") is not part of it.
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, (url) => {
    const tail = /[.,:;!?)\]]+$/.exec(url)?.[0] ?? '';
    return redactUrl(url.slice(0, url.length - tail.length)) + tail;
  });
}
