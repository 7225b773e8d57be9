// Types for the `base45` package (RFC 9285 encoder/decoder), which ships none.
declare module 'base45' {
  const base45: {
    encode(input: Uint8Array | string): string;
    decode(input: string): Buffer;
  };
  export default base45;
}
