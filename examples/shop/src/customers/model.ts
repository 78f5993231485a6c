/** The customer: API shape (camelCase), storage shape (snake_case), and the conversions between them. */
import { z } from 'zod';
import { bodyId } from '../shared/schemas.js';

/** Loyalty tiers; new customers start at BRONZE. */
export const LoyaltyTier = z.enum(['BRONZE', 'SILVER', 'GOLD']);
export type LoyaltyTier = z.infer<typeof LoyaltyTier>;

const customerName = z.string().trim().min(1, 'must not be empty').max(200);
const email = z.email().max(320);

/** `POST /customers`. */
export const CustomerCreateRequest = z.strictObject({
  customerId: bodyId.optional(),
  customerName,
  email,
  loyaltyTier: LoyaltyTier.default('BRONZE'),
});

/** `PUT /customers/{customer_id}`: any subset of the fields, at least one. */
export const CustomerUpdateRequest = z
  .strictObject({ customerName: customerName.optional(), email: email.optional(), loyaltyTier: LoyaltyTier.optional() })
  .refine((u) => Object.values(u).some((v) => v !== undefined), 'give at least one of customerName, email, loyaltyTier');

/** A customer as the API returns it. */
export interface CustomerItem {
  customerId: number;
  customerName: string;
  loyaltyTier: LoyaltyTier;
  email: string;
}

/** A customer as the state store holds it. */
export interface CustomerRecord {
  customer_id: number;
  customer_name: string;
  loyalty_tier: LoyaltyTier;
  email: string;
}

/** API → storage. */
export function toRecord(c: CustomerItem): CustomerRecord {
  return { customer_id: c.customerId, customer_name: c.customerName, loyalty_tier: c.loyaltyTier, email: c.email };
}

/** Storage → API. */
export function fromRecord(r: CustomerRecord): CustomerItem {
  return { customerId: r.customer_id, customerName: r.customer_name, loyaltyTier: r.loyalty_tier, email: r.email };
}
