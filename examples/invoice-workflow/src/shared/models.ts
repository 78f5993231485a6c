/**
 * The contracts between the workflow app and the four services, as zod schemas (validated at every
 * service boundary) and the TypeScript types inferred from them. Field names follow the seed's
 * snake_case JSON (`invoice_id`, `pdf_path`). Money is carried as numbers with two decimals.
 */
import { z } from 'zod';

/** Invoice ids double as workflow instance ids and folder names, so they are kept path-safe. */
export const InvoiceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, '1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** `POST /api/workflows/invoice` and the workflow's input (the seed's request body). */
export const InvoiceWorkflowInput = z.object({
  invoice_id: InvoiceId,
  pdf_path: z.string().min(1, 'pdf_path is required'),
});
export type InvoiceWorkflowInput = z.infer<typeof InvoiceWorkflowInput>;

/** upload-service: `POST /upload`. */
export const UploadRequest = InvoiceWorkflowInput;
export type UploadRequest = z.infer<typeof UploadRequest>;
export const UploadResult = z.object({
  invoice_id: InvoiceId,
  /** Relative to the artifacts folder. */
  blob_path: z.string(),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
});
export type UploadResult = z.infer<typeof UploadResult>;

/** split-service: `POST /split`. */
export const SplitRequest = z.object({ invoice_id: InvoiceId, blob_path: z.string().min(1) });
export type SplitRequest = z.infer<typeof SplitRequest>;
export const PageRef = z.object({
  page_number: z.number().int().positive(),
  /** A one-page PDF, relative to the artifacts folder. */
  path: z.string(),
});
export type PageRef = z.infer<typeof PageRef>;
export const SplitResult = z.object({ invoice_id: InvoiceId, page_count: z.number().int().positive(), pages: z.array(PageRef) });
export type SplitResult = z.infer<typeof SplitResult>;

/** One invoice line. */
export const LineItem = z.object({
  description: z.string(),
  quantity: z.number(),
  unit_price: z.number(),
  amount: z.number(),
});
export type LineItem = z.infer<typeof LineItem>;

/** extract-service: `POST /extract`, one page. */
export const ExtractRequest = z.object({ invoice_id: InvoiceId, page: PageRef });
export type ExtractRequest = z.infer<typeof ExtractRequest>;
/** What one page says; fields a page does not carry are null. */
export const PageExtraction = z.object({
  page_number: z.number().int().positive(),
  invoice_number: z.string().nullable(),
  invoice_date: z.string().nullable(),
  vendor: z.string().nullable(),
  currency: z.string().nullable(),
  line_items: z.array(LineItem),
  subtotal: z.number().nullable(),
  tax: z.number().nullable(),
  total: z.number().nullable(),
  /** Characters of text found on the page (0 means a scanned image: nothing to read). */
  text_length: z.number().int().nonnegative(),
});
export type PageExtraction = z.infer<typeof PageExtraction>;

/** aggregate-service: `POST /aggregate`. */
export const AggregateRequest = z.object({ invoice_id: InvoiceId, pages: z.array(PageExtraction).min(1) });
export type AggregateRequest = z.infer<typeof AggregateRequest>;
/** The final invoice JSON. */
export const Invoice = z.object({
  invoice_id: InvoiceId,
  invoice_number: z.string().nullable(),
  invoice_date: z.string().nullable(),
  vendor: z.string().nullable(),
  currency: z.string().nullable(),
  line_items: z.array(LineItem),
  subtotal: z.number().nullable(),
  tax: z.number().nullable(),
  total: z.number().nullable(),
  page_count: z.number().int().positive(),
  /** Page numbers in the order their items were merged: each page exactly once. */
  pages: z.array(z.number().int().positive()),
  validation: z.object({
    ok: z.boolean(),
    /** Sum of the line amounts, to compare with `subtotal`. */
    line_items_sum: z.number(),
    issues: z.array(z.string()),
  }),
  /** Where the JSON was written, relative to the artifacts folder. */
  result_path: z.string(),
});
export type Invoice = z.infer<typeof Invoice>;

/** The payload of the `approval` external event. */
export const ApprovalEvent = z.object({
  approved: z.boolean(),
  approver: z.string().optional(),
  comment: z.string().optional(),
});
export type ApprovalEvent = z.infer<typeof ApprovalEvent>;

/** How an instance ended. */
export type InvoiceDecision = 'auto_approved' | 'approved' | 'rejected';

/** The workflow's output. */
export interface InvoiceWorkflowResult {
  invoice_id: string;
  decision: InvoiceDecision;
  /** Why: below the threshold, who approved, why rejected, or that approval timed out. */
  reason: string;
  approval: ApprovalEvent | null;
  invoice: Invoice;
}

/** What the generator knows an invoice says; tests compare the workflow's output to it. */
export interface InvoiceTruth {
  file: string;
  invoice_id: string;
  invoice_number: string;
  invoice_date: string;
  vendor: string;
  currency: string;
  line_items: LineItem[];
  subtotal: number;
  tax: number;
  total: number;
  page_count: number;
  /** False when the printed subtotal differs from the sum of the lines. */
  sums_add_up: boolean;
  /** True when the file is not a readable PDF. */
  malformed: boolean;
}

/** Rounds to cents. */
export function money(n: number): number {
  return Math.round(n * 100) / 100;
}
