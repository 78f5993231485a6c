/** The product: API shape (camelCase), storage shape (snake_case), conversions and `isLowStock`. */
import { z } from 'zod';
import { bodyId } from '../shared/schemas.js';

const count = z.number().int().nonnegative();

/** `POST /products` (create or replace). */
export const ProductCreateRequest = z.strictObject({
  productId: bodyId,
  productName: z.string().trim().min(1, 'must not be empty').max(200),
  productDescription: z.string().max(5000),
  stockOnHand: count,
  lowStockThreshold: count,
});
export type ProductItem = z.infer<typeof ProductCreateRequest>;

/** `PUT /products/{product_id}/increment|decrement`. */
export const StockUpdateRequest = z.strictObject({ quantity: z.number().int().positive() });

/** A product as the API returns it. */
export interface ProductResponse extends ProductItem {
  /** Stock is at or below the threshold. */
  isLowStock: boolean;
}

/** A product as the state store holds it. */
export interface ProductRecord {
  product_id: number;
  product_name: string;
  product_description: string;
  stock_on_hand: number;
  low_stock_threshold: number;
}

/** API → storage. */
export function toRecord(p: ProductItem): ProductRecord {
  return {
    product_id: p.productId,
    product_name: p.productName,
    product_description: p.productDescription,
    stock_on_hand: p.stockOnHand,
    low_stock_threshold: p.lowStockThreshold,
  };
}

/** Storage → API, with the calculated `isLowStock`. */
export function toResponse(r: ProductRecord): ProductResponse {
  return {
    productId: r.product_id,
    productName: r.product_name,
    productDescription: r.product_description,
    stockOnHand: r.stock_on_hand,
    lowStockThreshold: r.low_stock_threshold,
    isLowStock: r.stock_on_hand <= r.low_stock_threshold,
  };
}
