/**
 * One log-stream request, from body to confirmed delivery:
 *
 *   parse (detect the format) → order (log_id order, one per id) → ship
 *   (skip what is recorded as shipped, filter, format, send, confirm, record)
 *
 * It resolves only once every record of the request is shipped and
 * confirmed, filtered out, or already shipped; any failure rejects, nothing
 * of the request is recorded as shipped that was not confirmed, and the
 * caller answers so that Auth0 delivers the request again.
 */
import { orderRecords } from './order-records';
import { parseStreamBody, type StreamFormat } from './parse-body';
import { shipDelivery, type ShipDeliveryDeps, type ShipDeliveryOptions, type ShippedDelivery } from './ship-delivery';

export interface DeliveryOutcome extends ShippedDelivery {
  format: StreamFormat;
  records: number;
  /** Records repeated within the request, shipped once. */
  repeatedInRequest: number;
}

export async function receiveDelivery(body: string, deps: ShipDeliveryDeps, options: ShipDeliveryOptions): Promise<DeliveryOutcome> {
  const parsed = parseStreamBody(body);
  const ordered = orderRecords(parsed.records);
  const shipped = await shipDelivery(ordered, deps, options);
  return { format: parsed.format, records: parsed.records.length, repeatedInRequest: ordered.repeatedInRequest, ...shipped };
}
