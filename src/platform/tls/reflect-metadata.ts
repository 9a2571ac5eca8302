/**
 * @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API;
 * import this module before '@peculiar/x509'.
 */
import 'reflect-metadata';
