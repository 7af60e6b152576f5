// Sigstore production (sigstore.dev): signing config. The production trusted root and
// TUF root come from @sigstore/tuf (see ../trust-config.ts).
// Copied unchanged from sigstore-python 4.5.1 (sigstore/_store, Apache-2.0), the
// client the reference model_signing 1.1.1 uses, so that both clients start from
// the same roots offline. TUF refreshes them when the network is there.

/** Production signing config (service URLs). */
export const PRODUCTION_SIGNING_CONFIG: unknown = {
  mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
  caUrls: [
    {
      url: 'https://fulcio.sigstore.dev',
      majorApiVersion: 1,
      validFor: {
        start: '2022-04-13T20:06:15.000Z',
      },
      operator: 'sigstore.dev',
    },
  ],
  oidcUrls: [
    {
      url: 'https://oauth2.sigstore.dev/auth',
      majorApiVersion: 1,
      validFor: {
        start: '2022-04-13T20:06:15.000Z',
      },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogUrls: [
    {
      url: 'https://rekor.sigstore.dev',
      majorApiVersion: 1,
      validFor: {
        start: '2021-01-12T11:53:27.000Z',
      },
      operator: 'sigstore.dev',
    },
  ],
  tsaUrls: [
    {
      url: 'https://timestamp.sigstore.dev/api/v1/timestamp',
      majorApiVersion: 1,
      validFor: {
        start: '2025-07-04T00:00:00Z',
      },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogConfig: {
    selector: 'ANY',
  },
  tsaConfig: {
    selector: 'ANY',
  },
};
