import { describe, expect, it } from 'vitest';
import { commonErrors, stateErrors } from '../../errors/index.js';
// An independent wire decoder, so encoder and decoder cannot share a wrong field number.
import { decodeErrorInfo, decodeStatus } from '../../../../../test/compat/support/rpc-status.js';
import { ERROR_INFO_TYPE_URL, encodeRichStatus } from './rich-status.js';

describe('encodeRichStatus', () => {
  it('encodes a google.rpc.Status with the code, message and one dapr.io ErrorInfo', () => {
    const error = stateErrors.storeNotFound('orders', 'my-app');
    const status = decodeStatus(encodeRichStatus(error) ?? Buffer.alloc(0));
    expect(status.code).toBe(error.grpcCode);
    expect(status.message).toBe('state store orders is not found');
    expect(status.details.map((d) => d.typeUrl)).toEqual([ERROR_INFO_TYPE_URL]);
    expect(decodeErrorInfo(status.details[0]?.value ?? Buffer.alloc(0))).toEqual({
      reason: 'DAPR_STATE_NOT_FOUND',
      domain: 'dapr.io',
      metadata: { appID: 'my-app' },
    });
  });

  it('encodes an ErrorInfo with empty metadata when the error has none', () => {
    const status = decodeStatus(encodeRichStatus(stateErrors.illegalKey('a||b')) ?? Buffer.alloc(0));
    expect(decodeErrorInfo(status.details[0]?.value ?? Buffer.alloc(0))).toEqual({
      reason: 'DAPR_STATE_ILLEGAL_KEY',
      domain: 'dapr.io',
      metadata: {},
    });
  });

  it('returns undefined for a legacy error without a reason', () => {
    expect(encodeRichStatus(commonErrors.invalidToken())).toBeUndefined();
  });
});
