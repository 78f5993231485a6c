/** The review: API shape (camelCase), storage shape (snake_case), and the conversions between them. */
import { z } from 'zod';
import { bodyId } from '../shared/schemas.js';

const rating = z.number().int().min(1).max(5);
const reviewText = z.string().max(5000);

/** `POST /reviews`. */
export const ReviewCreateRequest = z.strictObject({
  reviewId: bodyId.optional(),
  productId: bodyId,
  customerId: bodyId,
  rating,
  reviewText: reviewText.nullish(),
});

/** `PUT /reviews/{review_id}`: rating and/or text, at least one. */
export const ReviewUpdateRequest = z
  .strictObject({ rating: rating.optional(), reviewText: reviewText.nullish() })
  .refine((u) => u.rating !== undefined || u.reviewText !== undefined, 'give at least one of rating, reviewText');

/** A review as the API returns it. */
export interface ReviewItem {
  reviewId: number;
  productId: number;
  customerId: number;
  /** 1–5. */
  rating: number;
  reviewText: string;
}

/** A review as the state store holds it. */
export interface ReviewRecord {
  review_id: number;
  product_id: number;
  customer_id: number;
  rating: number;
  review_text: string;
}

/** API → storage. */
export function toRecord(r: ReviewItem): ReviewRecord {
  return { review_id: r.reviewId, product_id: r.productId, customer_id: r.customerId, rating: r.rating, review_text: r.reviewText };
}

/** Storage → API. */
export function fromRecord(r: ReviewRecord): ReviewItem {
  return { reviewId: r.review_id, productId: r.product_id, customerId: r.customer_id, rating: r.rating, reviewText: r.review_text ?? '' };
}
